"""Language names by file extension, for heartbeats that arrive without a language.

Names follow WakaTime's spelling so that summaries line up with what editors report themselves.
"""

from __future__ import annotations

import posixpath

# fmt: off
LANGUAGE_BY_EXTENSION = {
    "py": "Python", "pyi": "Python", "pyw": "Python", "ipynb": "Python",
    "js": "JavaScript", "mjs": "JavaScript", "cjs": "JavaScript", "jsx": "JSX",
    "ts": "TypeScript", "mts": "TypeScript", "cts": "TypeScript", "tsx": "TSX",
    "go": "Go", "rs": "Rust", "rb": "Ruby", "erb": "HTML (Rails)", "php": "PHP",
    "java": "Java", "kt": "Kotlin", "kts": "Kotlin", "scala": "Scala", "groovy": "Groovy",
    "c": "C", "h": "C", "cc": "C++", "cpp": "C++", "cxx": "C++", "hpp": "C++", "hh": "C++",
    "cs": "C#", "fs": "F#", "swift": "Swift", "m": "Objective-C", "mm": "Objective-C++",
    "dart": "Dart", "lua": "Lua", "pl": "Perl", "pm": "Perl", "r": "R", "jl": "Julia",
    "ex": "Elixir", "exs": "Elixir", "erl": "Erlang", "hs": "Haskell", "ml": "OCaml",
    "clj": "Clojure", "cljs": "ClojureScript", "elm": "Elm", "zig": "Zig", "nim": "Nim",
    "v": "V", "d": "D", "sh": "Bash", "bash": "Bash", "zsh": "Zsh", "fish": "Fish",
    "ps1": "PowerShell", "bat": "Batchfile", "cmd": "Batchfile",
    "html": "HTML", "htm": "HTML", "css": "CSS", "scss": "SCSS", "sass": "Sass", "less": "Less",
    "vue": "Vue.js", "svelte": "Svelte", "astro": "Astro",
    "json": "JSON", "jsonc": "JSON", "yaml": "YAML", "yml": "YAML", "toml": "TOML",
    "xml": "XML", "ini": "INI", "cfg": "INI", "csv": "CSV", "sql": "SQL", "graphql": "GraphQL",
    "md": "Markdown", "markdown": "Markdown", "rst": "reStructuredText", "tex": "TeX",
    "txt": "Text", "proto": "Protocol Buffer", "tf": "HCL", "hcl": "HCL", "nix": "Nix",
    "vim": "VimL", "el": "Emacs Lisp", "dockerfile": "Docker", "gd": "GDScript",
    "sol": "Solidity", "asm": "Assembly", "s": "Assembly", "cmake": "CMake", "mk": "Makefile",
}

LANGUAGE_BY_FILENAME = {
    "makefile": "Makefile", "gnumakefile": "Makefile", "dockerfile": "Docker",
    "cmakelists.txt": "CMake", "gemfile": "Ruby", "rakefile": "Ruby", "justfile": "Just",
}
# fmt: on


def language_for_entity(entity: str) -> str | None:
    name = posixpath.basename(entity.replace("\\", "/")).lower()
    if name in LANGUAGE_BY_FILENAME:
        return LANGUAGE_BY_FILENAME[name]
    _, dot, extension = name.rpartition(".")
    return LANGUAGE_BY_EXTENSION.get(extension) if dot else None

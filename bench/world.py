"""The bench user's world: 30 projects in 15 languages, four machines, their editors and user
agents, all derived from the seed so that every run builds the same history."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache

# Beat fields a client leaves out when it has no value for them.
OPTIONAL_FIELDS = (
    "project",
    "branch",
    "language",
    "lineno",
    "cursorpos",
    "lines",
    "dependencies",
    "line_additions",
    "line_deletions",
    "project_root_count",
    "ai_line_changes",
    "human_line_changes",
)

EXTENSIONS = {
    "Python": "py",
    "TypeScript": "ts",
    "JavaScript": "js",
    "Go": "go",
    "Rust": "rs",
    "C": "c",
    "C++": "cpp",
    "Java": "java",
    "Ruby": "rb",
    "Bash": "sh",
    "Markdown": "md",
    "JSON": "json",
    "YAML": "yml",
    "SQL": "sql",
    "HTML": "html",
}

# What wakatime-cli's dependency parsers find in files of these languages.
_DEPENDENCIES = {
    "Python": (
        "os", "sys", "json", "re", "typing", "asyncio", "pathlib", "dataclasses", "starlette",
        "aiosqlite", "orjson", "pytest", "httpx", "datetime", "collections", "numpy", "pandas",
    ),
    "TypeScript": ("react", "react-dom", "zod", "vitest", "@tanstack/react-query", "date-fns"),
    "JavaScript": ("react", "lodash", "express", "axios", "jest", "dayjs"),
    "Go": ("fmt", "net/http", "context", "github.com/spf13/cobra", "go.uber.org/zap", "errors"),
    "Rust": ("serde", "tokio", "anyhow", "clap", "tracing", "rayon"),
    "Java": ("java.util.List", "java.util.Map", "org.junit.jupiter.api.Test", "lombok.Data"),
}  # fmt: skip

# (name, main language, other languages); the first three are worked on all the time.
_PROJECTS = (
    ("dotfiles", "Bash", ("YAML", "JSON")),
    ("notes", "Markdown", ("JSON",)),
    ("scripts", "Python", ("Bash", "JSON")),
    ("hackatime", "Python", ("SQL", "Markdown", "YAML")),
    ("pixel-forge", "Rust", ("Markdown", "YAML")),
    ("api-gateway", "Go", ("YAML", "Markdown", "JSON")),
    ("shop-frontend", "TypeScript", ("HTML", "JSON", "JavaScript")),
    ("ledger-service", "Java", ("SQL", "YAML")),
    ("home-automation", "Python", ("YAML", "Bash")),
    ("tinyraytracer", "C++", ("Markdown",)),
    ("kernel-playground", "C", ("Bash", "Markdown")),
    ("rails-admin", "Ruby", ("HTML", "SQL", "YAML")),
    ("data-pipeline", "Python", ("SQL", "YAML")),
    ("metrics-exporter", "Go", ("YAML", "Markdown")),
    ("chat-widget", "JavaScript", ("HTML", "JSON")),
    ("infra-ansible", "YAML", ("Bash", "Markdown")),
    ("sql-reports", "SQL", ("Python", "Markdown")),
    ("mobile-web", "TypeScript", ("HTML", "JSON")),
    ("wasm-synth", "Rust", ("JavaScript", "HTML")),
    ("auth-proxy", "Go", ("YAML", "JSON")),
    ("ml-experiments", "Python", ("Markdown", "JSON")),
    ("cli-toolkit", "Rust", ("Markdown", "Bash")),
    ("portfolio", "HTML", ("JavaScript", "Markdown")),
    ("inventory-api", "Java", ("SQL", "JSON")),
    ("json-schemas", "JSON", ("Markdown", "TypeScript")),
    ("legacy-billing", "Ruby", ("SQL", "HTML")),
    ("embedded-fw", "C", ("Bash", "Markdown")),
    ("game-of-life", "JavaScript", ("HTML",)),
    ("search-indexer", "C++", ("Python", "Markdown")),
    ("advent-of-code", "Python", ("Markdown",)),
)
_EVERGREEN = 3
_DIRECTORIES = (
    "src", "src/api", "src/core", "src/util", "lib", "tests", "docs", "scripts", "internal/db",
    "cmd/server", "web/components", "config", "migrations", "examples", "bench",
)  # fmt: skip
_WORDS = (
    "main", "server", "client", "model", "views", "routes", "config", "store", "cache", "parser",
    "render", "schema", "auth", "session", "index", "utils", "worker", "queue", "report",
    "export", "import", "settings", "handlers", "types", "errors", "metrics", "sync", "layout",
)  # fmt: skip
DOMAINS = (
    "github.com", "stackoverflow.com", "docs.python.org", "developer.mozilla.org",
    "pkg.go.dev", "docs.rs", "sqlite.org", "news.ycombinator.com",
)  # fmt: skip


@dataclass(frozen=True)
class SourceFile:
    path: str
    language: str
    lines: int
    dependencies: tuple[str, ...] | None
    category: str


@dataclass(frozen=True)
class Project:
    name: str
    files: tuple[SourceFile, ...]
    # Cumulative weights: a few hot files get most of the visits.
    hot: tuple[float, ...]
    root_count: int
    # Months before today when this project was busiest; None for the ones always worked on.
    busiest_month: float | None
    busy_months: float


def _project(seed: int, index: int) -> Project:
    name, main, others = _PROJECTS[index]
    rng = random.Random(f"{seed}:project:{index}")
    files = []
    for _ in range(rng.randint(25, 160)):
        language = main if rng.random() < 0.7 else rng.choice(others)
        stem = rng.choice(_WORDS) + (f"_{rng.choice(_WORDS)}" if rng.random() < 0.5 else "")
        pool = _DEPENDENCIES.get(language)
        dependencies = tuple(rng.sample(pool, min(len(pool), rng.randint(1, 5)))) if pool else None
        files.append(
            SourceFile(
                path=f"{rng.choice(_DIRECTORIES)}/{stem}.{EXTENSIONS[language]}",
                language=language,
                lines=rng.randint(15, 1200),
                dependencies=dependencies,
                category="writing docs" if language == "Markdown" else "coding",
            )
        )
    hot, running = [], 0.0
    for rank in range(len(files)):
        running += 1 / (rank + 1)
        hot.append(running)
    # Spread over the 110 months before today, the newest projects the busiest now.
    busiest = None if index < _EVERGREEN else (index - _EVERGREEN) * 110 / 27 + rng.uniform(-3, 3)
    return Project(name, tuple(files), tuple(hot), rng.randint(4, 7), busiest, rng.uniform(5, 14))


@dataclass(frozen=True)
class Machine:
    name: str
    editors: tuple[str, ...]
    editor_weights: tuple[float, ...]
    # linux, mac, pi or windows: picks its platform strings, paths and browser.
    kind: str

    def platform(self, quarter: int) -> str:
        if quarter >= 16:
            return _LEGACY_PLATFORMS[self.kind].format(q=quarter)
        return _PLATFORMS[self.kind].format(
            major=max(4, 6 - quarter // 12), minor=(17 * quarter) % 19, darwin=24 - quarter // 4
        )

    def user_agent(self, editor: str, quarter: int) -> str:
        plugin = _EDITORS[editor].format(
            a=max(1, 96 - 2 * quarter), b=max(4, 25 - quarter), c=quarter % 7, y=24 - quarter // 4
        )
        platform = self.platform(quarter)
        if quarter >= 16:
            # The legacy Python client, before wakatime-cli was rewritten in Go.
            client = f"wakatime/13.{max(0, (40 - quarter) // 8)}.{quarter % 8}"
            runtime = f"Python3.{max(6, 9 - (quarter - 16) // 8)}.{quarter % 10}.final.0"
        else:
            client = f"wakatime/v1.{102 - 4 * quarter}.{quarter % 3}"
            runtime = f"go1.{max(16, 23 - quarter // 3)}.{quarter % 5}"
        return f"{client} ({platform}) {runtime} {plugin}"

    def browser_user_agent(self, quarter: int) -> str:
        version = max(2, 4 - quarter // 12)
        return (
            f"Mozilla/5.0 ({_BROWSER_OS[self.kind]}) AppleWebKit/537.36 (KHTML, like Gecko)"
            f" Chrome/{131 - 2 * quarter}.0.0.0 Safari/537.36"
            f" chrome-wakatime/{version}.{quarter % 9}.{quarter % 4}"
        )

    def entity(self, project: str, path: str) -> str:
        root = _ROOTS[self.kind].format(project=project)
        if self.kind == "windows":
            return root + "\\" + path.replace("/", "\\")
        return f"{root}/{path}"


_PLATFORMS = {
    "linux": "linux-{major}.{minor}.0-amd64-x86_64",
    "mac": "darwin-{darwin}.{minor}.0-arm64",
    "pi": "linux-6.1.0-rpi{minor}-rpi-v8-arm64",
    "windows": "windows-10.0.22631-amd64",
}
_LEGACY_PLATFORMS = {
    "linux": "Linux-5.4.0-{q}-generic-x86_64-with-glibc2.31",
    "mac": "macOS-10.15.{q}-x86_64-i386-64bit",
    "pi": "Linux-5.10.0-v7l+-armv7l-with-glibc2.31",
    "windows": "Windows-10-10.0.19041-SP0",
}
_BROWSER_OS = {
    "linux": "X11; Linux x86_64",
    "mac": "Macintosh; Intel Mac OS X 10_15_7",
    "pi": "X11; Linux aarch64",
    "windows": "Windows NT 10.0; Win64; x64",
}
_ROOTS = {
    "linux": "/home/alice/src/{project}",
    "mac": "/Users/alice/code/{project}",
    "pi": "/home/pi/projects/{project}",
    "windows": "C:\\Users\\alice\\source\\repos\\{project}",
}
_EDITORS = {
    "vscode": "vscode/1.{a}.{c} vscode-wakatime/{b}.{c}.0",
    "vim": "vim/9.{c}.{a} vim-wakatime/11.{c}.0",
    "pycharm": "PyCharm/20{y}.{c}.1 PyCharm-wakatime/{b}.{c}.2",
    "emacs": "emacs/29.{c} emacs-wakatime/1.0.{c}",
}
DESKTOP = Machine("alice-desktop", ("vscode", "vim", "pycharm"), (0.55, 0.3, 0.15), "linux")
LAPTOP = Machine("alice-mbp", ("vscode", "pycharm"), (0.7, 0.3), "mac")
PI = Machine("raspberrypi", ("vim", "emacs"), (0.8, 0.2), "pi")
WORK = Machine("WORK-LT-0420", ("vscode", "pycharm"), (0.8, 0.2), "windows")


class World:
    """Everything the days draw from; cheap to build, memoised per month."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.projects = [_project(seed, index) for index in range(len(_PROJECTS))]

    @cache  # noqa: B019 - one World per history, a few hundred months
    def project_weights(self, month: int) -> tuple[float, ...]:
        return tuple(
            0.08
            if project.busiest_month is None
            else math.exp(-(((month - project.busiest_month) / project.busy_months) ** 2))
            for project in self.projects
        )

    @cache  # noqa: B019
    def branches(self, project: str, month: int) -> tuple[str, ...]:
        rng = random.Random(f"{self.seed}:branches:{project}:{month}")
        topics = [f"feature/{rng.choice(_WORDS)}-{rng.randint(10, 999)}" for _ in range(2)]
        return ("main", "main", *topics)

    def pick_machine(self, rng: random.Random, quarter: int, *, evening: bool) -> Machine:
        if evening:
            return rng.choices((LAPTOP, DESKTOP, PI), (0.6, 0.3, 0.1))[0]
        if 10 <= quarter < 24:
            # A previous job, with its own Windows laptop.
            return rng.choices((WORK, DESKTOP, LAPTOP), (0.7, 0.2, 0.1))[0]
        return rng.choices((DESKTOP, LAPTOP, PI), (0.75, 0.2, 0.05))[0]

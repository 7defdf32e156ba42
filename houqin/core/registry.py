"""Small registries that apps add to in ``AppConfig.ready()``; ``core`` knows no app.

- menu: left navigation groups and entries (only modules that exist and are switched on)
- search: global search providers (names, pinyin, initials)
- dashboard facts: counts on the home page, each linking to its list
- demo generators: the parts of the demo school, run in order by ``seed_demo``
- role permissions: permission codenames each role gets, applied by ``sync_roles``
- modules: switchable modules of a school (a school that does not use 班牌 hides it)
- periodic jobs: what the scheduler enqueues each minute (notification delivery, task generation)
- widgets: dashboard cards of each app (tasks due, approvals waiting, charts)
- personal channels: ways to reach each person directly (WeCom app messages, DingTalk work notices),
  offered by the sign-in app and used by notifications, which knows neither
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    perm: str | None = None  # a user sees the entry only with this permission
    module: str | None = None  # hidden when the school switched this module off
    icon: str = ""
    order: int = 100


@dataclass
class MenuGroup:
    key: str
    label: str
    order: int = 100
    items: list[MenuItem] = field(default_factory=list)


@dataclass(frozen=True)
class DashboardFact:
    label: str
    count: Callable  # (request) -> int | None (None: not shown to this user)
    url_name: str
    order: int = 100


@dataclass(frozen=True)
class SearchProvider:
    label: str
    search: Callable  # (request, query, limit) -> list[tuple[str, str, str]] (title, subtitle, url)
    order: int = 100


@dataclass(frozen=True)
class DemoGenerator:
    name: str
    func: Callable  # (school_or_none, scale: float, stdout) -> None
    order: int = 100


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    description: str = ""
    order: int = 100


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler enqueues every ``every_minutes`` (idempotently: once per time slot)."""

    name: str  # "notifications.deliver"
    func: Callable  # () -> object; runs on the worker
    every_minutes: int = 1


@dataclass(frozen=True)
class Widget:
    """A dashboard card an app offers; ``render(request)`` returns a context dict or None (hidden)."""

    key: str
    label: str
    template: str
    render: Callable
    order: int = 100


@dataclass(frozen=True)
class PersonalChannel:
    """A way to send one person a message directly, offered by an app (signin: the school's WeCom or
    DingTalk app). ``notify`` queues one outbox row per person the channel can reach, on channel ``code``;
    the delivery worker calls ``send`` with the outbox's claim, retries, backoff and quiet hours.

    - ``addresses(school, users) -> {user pk: address}``: the people it can reach now (none when the school
      has not set the platform up; a person without a platform id is simply left out)
    - ``send(*, school_id, address, title, text) -> None``: deliver one message (plain text with the link);
      raises on failure, and an exception of ``errors`` is shown to the administrator as its message
    """

    code: str  # the outbox channel: "wecom_app"
    label: str
    addresses: Callable
    send: Callable
    errors: tuple = ()


@dataclass(frozen=True)
class Module:
    code: str
    label: str


class Registry:
    def __init__(self) -> None:
        self.menu_groups: dict[str, MenuGroup] = {}
        self.dashboard_facts: list[DashboardFact] = []
        self.search_providers: list[SearchProvider] = []
        self.demo_generators: list[DemoGenerator] = []
        self.roles: dict[str, Role] = {}
        self.role_perms: dict[str, set[str]] = {}
        self.modules: dict[str, Module] = {}
        # Callables (staff) -> list of messages naming what the person still holds; a leaving
        # person's account is not disabled while any is non-empty (AST-14).
        self.leave_blockers: list[Callable] = []
        self.periodic_jobs: dict[str, PeriodicJob] = {}
        self.widgets: list[Widget] = []
        self.personal_channels: dict[str, PersonalChannel] = {}

    # navigation
    def menu_group(self, key: str, label: str, order: int = 100) -> MenuGroup:
        group = self.menu_groups.get(key)
        if group is None:
            group = self.menu_groups[key] = MenuGroup(key, label, order)
        return group

    def menu_item(self, group_key: str, item: MenuItem) -> None:
        group = self.menu_groups[group_key]
        if item not in group.items:
            group.items.append(item)
            group.items.sort(key=lambda i: i.order)

    def add_fact(self, fact: DashboardFact) -> None:
        self.dashboard_facts.append(fact)
        self.dashboard_facts.sort(key=lambda f: f.order)

    def add_search(self, provider: SearchProvider) -> None:
        self.search_providers.append(provider)
        self.search_providers.sort(key=lambda p: p.order)

    def add_demo(self, gen: DemoGenerator) -> None:
        self.demo_generators.append(gen)
        self.demo_generators.sort(key=lambda g: g.order)

    def add_role(self, role: Role) -> None:
        self.roles[role.code] = role
        self.role_perms.setdefault(role.code, set())

    def grant(self, role_codes: Iterable[str], perms: Iterable[str]) -> None:
        """Give ``perms`` ("app_label.codename") to each role in ``role_codes``."""
        perms = list(perms)
        for code in role_codes:
            if code not in self.roles:
                raise KeyError(f"unknown role {code!r}")
            self.role_perms[code].update(perms)

    def add_module(self, module: Module) -> None:
        self.modules[module.code] = module

    def add_periodic(self, job: PeriodicJob) -> None:
        self.periodic_jobs[job.name] = job

    def add_personal_channel(self, channel: PersonalChannel) -> None:
        self.personal_channels[channel.code] = channel

    def add_widget(self, widget: Widget) -> None:
        if all(w.key != widget.key for w in self.widgets):
            self.widgets.append(widget)
            self.widgets.sort(key=lambda w: w.order)


registry = Registry()

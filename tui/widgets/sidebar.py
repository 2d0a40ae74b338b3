"""The tree of environments, applications and endpoints, with each endpoint's health."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.filters import Scope
from tui.format import percent
from tui.messages import ScopeChosen
from tui.model import Model
from tui.records import EndpointInfo


def endpoint_label(endpoint: EndpointInfo) -> Text:
    """``● orders  95%  10/s``: active flag, uid, recent success rate, rate limit."""
    label = Text()
    label.append("● " if endpoint.active else "○ ", "green" if endpoint.active else "red")
    label.append(endpoint.uid)
    rate = endpoint.success_rate
    colour = "dim" if rate is None else "green" if rate >= 0.9 else "yellow"
    if rate is not None and rate < 0.5:
        colour = "red"
    label.append(f"  {percent(rate)}", colour)
    if endpoint.rate_limit:
        label.append(f"  {endpoint.rate_limit}/s", "dim")
    if not endpoint.active:
        label.append("  off", "red")
    return label


class Sidebar(Tree[Scope]):
    """Choosing a node (enter, click) limits the event list to it; the root shows all."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, model: Model, **kwargs: object) -> None:
        super().__init__("All environments", data=Scope(), **kwargs)  # type: ignore[arg-type]
        self.model = model
        self.show_root = True
        self.guide_depth = 2
        self.auto_expand = False  # enter chooses; space folds
        self.root.expand()
        self._scope_nodes: dict[Scope, TreeNode[Scope]] = {}

    @property
    def highlighted_endpoint(self) -> EndpointInfo | None:
        """The endpoint under the cursor, if the cursor is on one."""
        node = self.cursor_node
        scope = node.data if node is not None else None
        if scope is None or scope.endpoint is None or scope.env is None or scope.app is None:
            return None
        return self.model.endpoints.get((scope.env, scope.app, scope.endpoint))

    def rebuild(self) -> None:
        """Bring the tree in line with the model, keeping what is expanded and the cursor."""
        wanted: set[Scope] = set()
        for env in self.model.envs.values():
            env_scope = Scope(env.id)
            wanted.add(env_scope)
            env_label = Text(env.api_key or env.id, "bold")
            env_node = self._node(self.root, env_scope, env_label)
            for app in self.model.apps_of(env.id):
                app_scope = Scope(env.id, app.uid)
                wanted.add(app_scope)
                label = Text(app.uid, "bold cyan")
                if app.name and app.name != app.uid:
                    label.append(f"  {app.name}", "dim")
                app_node = self._node(env_node, app_scope, label)
                for endpoint in self.model.endpoints_of(env.id, app.uid):
                    scope = Scope(env.id, app.uid, endpoint.uid)
                    wanted.add(scope)
                    self._node(app_node, scope, endpoint_label(endpoint), leaf=True)
        stale = [s for s in self._scope_nodes if s not in wanted]
        removed: set[Scope] = set()
        for scope in sorted(stale, key=_depth):
            node = self._scope_nodes.pop(scope)
            if not any(parent in removed for parent in _ancestors(scope)):
                node.remove()  # takes its children with it
            removed.add(scope)

    def _node(
        self, parent: TreeNode[Scope], scope: Scope, label: Text, leaf: bool = False
    ) -> TreeNode[Scope]:
        node = self._scope_nodes.get(scope)
        if node is None:
            node = (
                parent.add_leaf(label, data=scope)
                if leaf
                else parent.add(label, data=scope, expand=True)
            )
            self._scope_nodes[scope] = node
        elif str(node.label) != label.plain or node.label != label:
            node.set_label(label)
        return node

    def on_tree_node_selected(self, message: Tree.NodeSelected[Scope]) -> None:
        message.stop()
        self.post_message(ScopeChosen(message.node.data or Scope()))


def _depth(scope: Scope) -> int:
    return sum(part is not None for part in (scope.env, scope.app, scope.endpoint))


def _ancestors(scope: Scope) -> list[Scope]:
    return [Scope(scope.env), Scope(scope.env, scope.app)][: max(0, _depth(scope) - 1)]

"""The executor that runs queries through compiled plans and everything else through graphql-core."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, cast

from graphql import (
    DirectiveNode,
    GraphQLObjectType,
    Node,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue

from domain.audit.models import AuditCollector
from resolvers.context import Context
from resolvers.fastpath.execution import Run
from resolvers.fastpath.plan import Compiled, Compiler, Strawberry, Unsupported
from resolvers.introspection import IntrospectionOffLoop
from resolvers.loaders import Loaders

logger = logging.getLogger("customer360.fastpath")

PlanKey = tuple[str, int]


class PlanCache:
    """The most recently used plans, by document text and operation position; None marks 'use stock'."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._plans: OrderedDict[PlanKey, Compiled | None] = OrderedDict()

    def get(self, key: PlanKey) -> tuple[bool, Compiled | None]:
        if key not in self._plans:
            return False, None
        self._plans.move_to_end(key)
        return True, self._plans[key]

    def for_document(self, text: str) -> list[Compiled | None]:
        """The plans kept for the operations of one document."""
        return [plan for (body, _), plan in self._plans.items() if body == text]

    def put(self, key: PlanKey, plan: Compiled | None) -> None:
        self._plans[key] = plan
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)


class _VariableDirectives(Visitor):
    """Finds ``@skip``/``@include`` (or any directive) whose arguments use variables."""

    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if any(isinstance(argument.value, VariableNode) for argument in node.arguments or ()):
            self.found = True


def depends_on_variables(nodes: Sequence[Node]) -> bool:
    """Whether which fields are selected depends on the variables: such plans are built per request."""
    finder = _VariableDirectives()
    for node in nodes:
        visit(node, finder)
    return finder.found


class CompiledExecutor(IntrospectionOffLoop):
    """Runs a query's root fields through its cached plan; mutations, subscriptions and @defer run stock.

    When the plan's run fails anywhere (a resolver raised, a non-null field was null, a value could not be
    serialized), the whole operation runs again on the stock executor, which reports the errors exactly as
    it always does, reading the data again on fresh loaders.
    """

    plans: ClassVar[PlanCache]
    retries: ClassVar[int]  # operations answered by the stock executor after their compiled run failed

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> AwaitableOrValue[dict[str, Any]]:
        def stock() -> AwaitableOrValue[dict[str, Any]]:
            return super(CompiledExecutor, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        middleware = self.middleware_manager
        if serially or new_defer_usages or (middleware is not None and middleware.middlewares):
            return stock()
        plan = self._plan(root_type, grouped_field_set)
        if plan is None:
            return stock()
        context = self.context_value
        if isinstance(context, Context):
            context.pipelines = context.settings.compiled_pipelines
        run = Run(self)
        data = plan.complete(root_value, None, run)
        if run.is_awaitable(data):
            return self._settle(data, run, stock)
        return self._retry(stock) if run.failed else data

    async def _settle(
        self,
        data: Awaitable[dict[str, Any]],
        run: Run,
        stock: Callable[[], AwaitableOrValue[dict[str, Any]]],
    ) -> dict[str, Any]:
        completed = await data
        if not run.failed:
            return completed
        retried = self._retry(stock)
        if self.is_awaitable(retried):
            return cast("dict[str, Any]", await retried)
        return cast("dict[str, Any]", retried)

    def _retry(
        self, stock: Callable[[], AwaitableOrValue[dict[str, Any]]]
    ) -> AwaitableOrValue[dict[str, Any]]:
        # The retry must be a plain stock run: what it audits and even the order of its errors depend on
        # when its loads complete, so it gets fresh loaders, forgets what the failed run recorded, and reads
        # through the loaders as the stock executor does, not in pipelines.
        type(self).retries += 1
        context = self.context_value
        if isinstance(context, Context):
            context.audit = AuditCollector()
            context.loaders = Loaders.create(context.repos)
            context.pipelines = False
        return stock()

    def _plan(self, root_type: GraphQLObjectType, fields: GroupedFieldSet) -> Compiled | None:
        operation: OperationDefinitionNode = self.operation
        location = operation.loc
        key = (location.source.body, location.start) if location is not None else None
        if key is not None:
            known, plan = self.plans.get(key)
            if known:
                return plan
        fragments = [f.definition for f in self.fragments.values()]
        per_request = key is None or depends_on_variables([operation, *fragments])
        strawberry = getattr(self.schema, "_strawberry_schema", None)
        compiler = Compiler(
            self._subfields,
            self.schema.get_possible_types,
            Strawberry(strawberry) if strawberry is not None else None,
        )
        try:
            compiled: Compiled | None = compiler.object(root_type, fields, root=True)
        except Unsupported:
            compiled = None
        except Exception:
            # A bug in the compiler must not break a request the stock executor can answer.
            logger.exception("compiling %s failed; it runs on the stock executor", operation.operation.value)
            compiled = None
        if not per_request:
            assert key is not None
            self.plans.put(key, compiled)
        return compiled

    def _subfields(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> GroupedFieldSet:
        collected = self.collect_subfields(object_type, details)
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        grouped: GroupedFieldSet = collected.grouped_field_set
        return grouped


def compiled_executor(*, max_plans: int = 512) -> type[CompiledExecutor]:
    """An executor class with its own plan cache, for one schema."""
    return type("CompiledExecutor", (CompiledExecutor,), {"plans": PlanCache(max_plans), "retries": 0})

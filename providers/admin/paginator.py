"""Admin pagination that stays flat on huge tables."""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from accounts import scoping

ESTIMATE_FROM = 10_000
MAX_PAGE = 1_000_000  # pages of the lookahead paginator: 20 million rows


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, the changelist of a big table that no filter narrows takes its row count from
    the planner's statistics (kept by autovacuum) instead of `COUNT(*)`, which reads the whole
    table: 1M projects cost ~60 ms to count. The workspace scope is not a filter for this: the
    workspace's share of the table comes from the statistics of its `workspace` column (its most
    common values), and a workspace too small to be among them is counted exactly. Filtered
    lists, small tables and other databases are counted exactly. The page links are then
    approximate at the far end."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and connections[queryset.db].vendor == "postgresql":
            estimate = self._estimate(queryset)
            if estimate is not None and estimate >= ESTIMATE_FROM:
                return estimate
        return super().count

    @staticmethod
    def _estimate(queryset: QuerySet) -> int | None:
        model = queryset.model
        scope_only = model._default_manager.all().query.where
        if queryset.query.where and queryset.query.where != scope_only:
            return None  # narrowed by a filter or a search: counted
        _enabled, workspaces = scoping.active()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table])
            row = cursor.fetchone()
            rows = row[0] if row and row[0] is not None else None
            if rows is None or not queryset.query.where:
                return rows
            if not isinstance(workspaces, int) or "workspace" not in {f.name for f in model._meta.concrete_fields}:
                return None
            cursor.execute(
                "SELECT most_common_vals::text, most_common_freqs FROM pg_stats "
                "WHERE tablename = %s AND attname = 'workspace_id'",
                [model._meta.db_table],
            )
            stats = cursor.fetchone()
        if not stats or stats[0] is None:
            return None
        shares = dict(zip(stats[0].strip("{}").split(","), stats[1], strict=False))
        share = shares.get(str(workspaces))
        return int(rows * share) if share is not None else None


class LookaheadPage(Page):
    def __init__(self, object_list, number: int, paginator: Paginator, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class LookaheadPaginator(Paginator):
    """Pages that know whether another follows by reading one row more, never counting: what an
    autocomplete needs ("more results?"), flat however many rows match."""

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        if number > MAX_PAGE:  # an offset past what the database takes (bigint) would be a 500
            raise EmptyPage("That page contains no results")
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return LookaheadPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

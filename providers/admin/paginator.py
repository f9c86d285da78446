"""Admin pagination that stays flat on huge tables."""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_FROM = 10_000
MAX_PAGE = 1_000_000  # pages of the lookahead paginator: 20 million rows


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered changelist of a big table takes its row count from the
    planner's statistics (`pg_class.reltuples`, kept by autovacuum) instead of `COUNT(*)`, which
    reads the whole table: 1M projects cost ~60 ms to count. Filtered lists, small tables and
    other databases are counted exactly. The page links are then approximate at the far end."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] is not None and row[0] >= ESTIMATE_FROM:
                    return int(row[0])
        return super().count


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

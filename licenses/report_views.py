import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from groups.scoping import groups_visible_to

from . import report_selectors, services
from .report_forms import UsageFilterForm, ValidityFilterForm
from .reports import USAGE_FIELDS

PAGE = 50


class _Echo:
    def write(self, value):
        return value


def _stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """CSV written row by row as it is sent: memory stays flat whatever the number of rows."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _query_without_page(request: HttpRequest) -> str:
    params = [(k, v) for k, v in request.GET.items() if k not in ("page", "format")]
    return urlencode(params)


@login_required
def usage_report(request: HttpRequest) -> HttpResponse:
    form = UsageFilterForm(request.GET or None)
    on = services.today()
    found, subtree = None, None
    if not (form.is_bound and not form.is_valid()):
        data = form.cleaned_data if form.is_bound else {}
        on = data.get("day") or on
        if data.get("subtree"):
            subtree = groups_visible_to(request.user).filter(pk=data["subtree"]).first()
            if subtree is None:
                form.add_error("subtree", _("That group is not in your scope."))
        if not form.errors:
            found = report_selectors.usage(user=request.user, on=on, subtree=subtree, kind=data.get("kind", ""),
                                           administrator=data.get("administrator", ""),
                                           feature=data.get("feature", ""), show=data.get("show") or "all")
    if request.GET.get("format") == "csv":
        rows = found.all_rows() if found is not None else []
        return _stream_csv(f"license-usage-{on.isoformat()}.csv", USAGE_FIELDS,
                           (r.csv_row() for r in rows))
    # Paginated in the database: a page reads its own pools' totals, whatever the number of pools.
    per_page = max(1, PAGE // max(1, len(found.features))) if found is not None else PAGE
    page = Paginator(found.pools if found is not None else [], per_page).get_page(request.GET.get("page"))
    rows = found.rows(page.object_list) if found is not None else []
    return render(request, "licenses/reports/usage.html", {
        "form": form, "page": page, "rows": rows, "on": on, "totals": found.totals() if found is not None else {},
        "qs": _query_without_page(request), "subtree": subtree, "pools": page.paginator.count,
        # Every pool has a row per feature, unless only those in use are shown (then the pools count).
        "row_count": page.paginator.count * len(found.features) if found and not found.only_in_use else None})


@login_required
def validity_report(request: HttpRequest) -> HttpResponse:
    form = ValidityFilterForm(request.GET or None)
    on = services.today()
    if form.is_bound and not form.is_valid():
        blocks = report_selectors.validity(user=request.user, on=on).none()
    else:
        data = form.cleaned_data if form.is_bound else {}
        blocks = report_selectors.validity(
            user=request.user, on=on, date_field=data.get("date_field") or "valid_until",
            date_op=data.get("date_op", ""), day=data.get("date"), state=data.get("state", ""),
            kind=data.get("kind", ""), group=data.get("group", ""))
    if request.GET.get("format") == "csv":
        rows = blocks.values_list("pk", "group_id", "group__name", "kind", "valid_from", "valid_until", "state",
                                  "last_notified_at").iterator(chunk_size=2000)
        return _stream_csv(f"license-validity-{on.isoformat()}.csv",
                           ["block_id", "group_id", "group", "kind", "valid_from", "valid_until", "state",
                            "last_notified_at"],
                           ([*r[:5], r[5] or "", r[6], r[7].isoformat() if r[7] else ""] for r in rows))
    page = Paginator(blocks, PAGE).get_page(request.GET.get("page"))
    return render(request, "licenses/reports/validity.html", {
        "form": form, "page": page, "on": on, "qs": _query_without_page(request)})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    on = services.today()
    board = report_selectors.dashboard(user=request.user, on=on)
    tallest = max((n for _d, n in board.expiry_weeks), default=0) or 1
    bars = [{"week": week, "n": n, "x": 10 * i + 1, "height": round(58 * n / tallest), "y": 60 - round(58 * n / tallest)}
            for i, (week, n) in enumerate(board.expiry_weeks)]
    return render(request, "licenses/dashboard.html", {"board": board, "on": on, "bars": bars})


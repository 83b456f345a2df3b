"""One row per calendar day: whether it is a working day, and a running index
of working days, regenerated at every build through `dichvucong.workdays`, the
one definition the pipeline uses (metrics.md, Calendar): the seed
`calendar_overrides` first, else the `holidays` library. The seed's rows are
the overrides used; the build stops when they differ from the file that
`dichvucong.workdays` reads outside dbt (a seed not reloaded), so the pipeline's
Python and its warehouse cannot count different days.

The range covers every year that any dossier timestamp or batch day touches,
plus one year on each side, so that due dates past the data still find their
days. Staging has read every timestamp outside the plausible date window as
absent (macros/plausible_dates.sql): no single poisoned value stretches it.
"""

import datetime as dt


def model(dbt, session):
    dbt.config(materialized="table")
    # A pyarrow table, not a pandas frame: importing pandas cost more than building the calendar.
    import pyarrow as pa

    from dichvucong.workdays import OVERRIDES_PATH, WorkingDayCalendar, default_calendar, overrides_from_records

    seed = dbt.ref("calendar_overrides")
    columns = seed.columns
    overrides = overrides_from_records((dict(zip(columns, row)) for row in seed.fetchall()), "seed calendar_overrides")
    if set(overrides) != set(default_calendar().overrides.values()):
        raise ValueError(f"seed calendar_overrides differs from {OVERRIDES_PATH}: reload the seed (dbt seed)")
    calendar = WorkingDayCalendar(overrides)

    syncs = dbt.ref("stg_onestop__dossier_syncs")
    bounds = syncs.aggregate(
        "min(least(submitted_at, received_at, due_at, processing_finished_at, returned_at, refused_at, batch_date)),"
        " max(greatest(submitted_at, received_at, due_at, processing_finished_at, returned_at, refused_at, batch_date))"
    ).fetchall()[0]
    today = dt.date.today()
    low = bounds[0].date() if bounds[0] else today
    high = bounds[1].date() if bounds[1] else today
    start = dt.date(low.year - 1, 1, 1)
    end = dt.date(high.year + 1, 12, 31)

    days, working, indexes, names, weekdays, overridden = [], [], [], [], [], []
    index = 0
    day = start
    while day <= end:
        is_working = calendar.is_working_day(day)
        index += is_working
        days.append(day)
        working.append(is_working)
        indexes.append(index)
        names.append(calendar.holiday_name(day))
        weekdays.append(day.isoweekday())
        overridden.append(calendar.is_override(day))
        day += dt.timedelta(days=1)
    return pa.table({
        "calendar_date": pa.array(days, pa.date32()),
        "is_working_day": pa.array(working, pa.bool_()),
        "working_day_index": pa.array(indexes, pa.int64()),
        "holiday_name": pa.array(names, pa.string()),
        "iso_weekday": pa.array(weekdays, pa.int64()),
        "is_override": pa.array(overridden, pa.bool_()),
    })

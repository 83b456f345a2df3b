"""One row per calendar day: whether it is a working day, and a running index
of working days, regenerated at every build from the `holidays` library
(through `dichvucong.workdays`, the one definition the pipeline uses).

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

    from dichvucong.workdays import holiday_name, is_working_day

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

    days, working, indexes, names, weekdays = [], [], [], [], []
    index = 0
    day = start
    while day <= end:
        is_working = is_working_day(day)
        index += is_working
        days.append(day)
        working.append(is_working)
        indexes.append(index)
        names.append(holiday_name(day))
        weekdays.append(day.isoweekday())
        day += dt.timedelta(days=1)
    return pa.table({
        "calendar_date": pa.array(days, pa.date32()),
        "is_working_day": pa.array(working, pa.bool_()),
        "working_day_index": pa.array(indexes, pa.int64()),
        "holiday_name": pa.array(names, pa.string()),
        "iso_weekday": pa.array(weekdays, pa.int64()),
    })

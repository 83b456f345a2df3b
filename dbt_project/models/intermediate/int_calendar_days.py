"""One row per calendar day: whether it is a working day, and a running index
of working days, regenerated at every build from the `holidays` library
(through `dichvucong.workdays`, the one definition the pipeline uses).

The range covers every year that any dossier timestamp touches, plus one year
on each side, so that due dates past the data still find their days.
"""

import datetime as dt


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    from dichvucong.workdays import holiday_name, is_working_day

    syncs = dbt.ref("stg_onestop__dossier_syncs")
    bounds = syncs.aggregate(
        "min(least(submitted_at, received_at, due_at, processing_finished_at, returned_at, refused_at, updated_at)),"
        " max(greatest(submitted_at, received_at, due_at, processing_finished_at, returned_at, refused_at, updated_at))"
    ).fetchall()[0]
    today = dt.date.today()
    low = bounds[0].date() if bounds[0] else today
    high = bounds[1].date() if bounds[1] else today
    start = dt.date(low.year - 1, 1, 1)
    end = dt.date(high.year + 1, 12, 31)

    rows = []
    index = 0
    day = start
    while day <= end:
        working = is_working_day(day)
        index += working
        rows.append((day, working, index, holiday_name(day), day.isoweekday()))
        day += dt.timedelta(days=1)
    return pd.DataFrame(
        rows, columns=["calendar_date", "is_working_day", "working_day_index", "holiday_name", "iso_weekday"]
    )

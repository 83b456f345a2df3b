# Airflow image with the pipeline installed, pinned by constraints.txt.
FROM apache/airflow:3.3.2-python3.11
# WeasyPrint (the monthly report's PDF) needs pango and a font with Vietnamese letters.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/dichvucong/
COPY --chown=airflow:root src /opt/dichvucong/src
RUN pip install --no-cache-dir -c /opt/dichvucong/constraints.txt -e /opt/dichvucong
COPY --chown=airflow:root dags /opt/dichvucong/dags
COPY --chown=airflow:root dbt_project /opt/dichvucong/dbt_project
COPY --chown=airflow:root expectations /opt/dichvucong/expectations
COPY --chown=airflow:root data/reference /opt/dichvucong/data/reference

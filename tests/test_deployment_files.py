"""The deployment files users run: docker-compose.yml is well formed, pins its
images, keeps secrets out, and every variable it or the code reads is documented
in .env.example."""

from __future__ import annotations

import re

import yaml

from dichvucong.config import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
ENV_EXAMPLE = {line.split("=", 1)[0] for line in (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#") and "=" in line}


def test_compose_runs_every_airflow_component_on_postgres() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "airflow-init", "api-server", "scheduler", "dag-processor", "triggerer"} <= set(services)
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert "dvc-data:/var/lib/dichvucong" in services[name]["volumes"]
    for name in ("postgres", "redis", "api-server", "scheduler", "worker", "dashboard"):
        assert services[name]["healthcheck"]["test"], name


def test_images_are_pinned() -> None:
    images = [s["image"] for s in COMPOSE["services"].values() if "image" in s]
    assert images and all(":" in i and not i.endswith(":latest") for i in images)
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, flags=re.MULTILINE)


def test_no_secret_is_written_in_the_compose_file_and_every_variable_is_documented() -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{(\w+)\}", text))  # $${...} is the container's own variable
    assert used and used <= ENV_EXAMPLE, used - ENV_EXAMPLE
    for key in ("PASSWORD", "SECRET", "TOKEN"):
        for match in re.finditer(rf"\w*{key}\w*:\s*(\S+)", text):
            assert match.group(1).startswith("${"), match.group(0)


def test_every_setting_the_code_reads_is_documented() -> None:
    files = [p for folder in ("src", "dags") for p in (REPO_ROOT / folder).rglob("*.py")]
    code = "\n".join(p.read_text(encoding="utf-8") for p in files)
    read = set(re.findall(r"""["'](DVC_[A-Z_]+)["']""", code))
    assert read and read <= ENV_EXAMPLE, read - ENV_EXAMPLE


def test_the_dashboard_reads_the_data_volume_read_only() -> None:
    dashboard = COMPOSE["services"]["dashboard"]
    assert dashboard["entrypoint"] == ["dichvucong"] and dashboard["command"][0] == "dashboard"
    assert "dvc-data:/var/lib/dichvucong:ro" in dashboard["volumes"]
    assert "/healthz" in " ".join(dashboard["healthcheck"]["test"])


def test_compose_runs_celery_workers_on_redis_for_every_configured_province() -> None:
    services = COMPOSE["services"]
    env = services["worker"]["environment"]
    assert services["worker"]["command"] == "celery worker"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD}@redis:6379")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["DVC_PROVINCES_FILE"] == "/opt/dichvucong/config/provinces.yml"
    assert "./config:/opt/dichvucong/config:ro" in services["worker"]["volumes"]
    assert services["airflow-init"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert "dichvucong airflow-pools" in services["airflow-init"]["command"]
    assert "deploy" not in services["worker"] or "replicas" in services["worker"]["deploy"]


def test_the_example_provinces_file_is_valid() -> None:
    from dichvucong.provinces import load_provinces

    provinces = load_provinces(REPO_ROOT / "config" / "provinces.yml")
    assert len(provinces) >= 2 and len({p.slug for p in provinces}) == len(provinces)
    text = (REPO_ROOT / "config" / "provinces.yml").read_text(encoding="utf-8")
    assert "token:" not in text.replace("source_token_env:", ""), "tokens come from the environment"

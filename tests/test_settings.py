"""Settings come from the environment; production variables give a clean deployment check."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "wavelength.example.org",
    "WAVELENGTH_HTTPS": "1",
    # Parsed but never connected to by `check --deploy`.
    "DATABASE_URL": "postgres://wavelength:secret@db.invalid:5432/wavelength",
}


def process_env(env):
    """The test run's environment without what the test run itself set, plus `env`."""
    ours = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**{k: v for k, v in os.environ.items() if k not in ours}, **env}


def run_manage(*args, env=None, cwd=ROOT):
    full_env = process_env(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=cwd, env=full_env, capture_output=True, text=True
    )


def settings_values(env, *names):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    full_env = process_env({**env, "DJANGO_SETTINGS_MODULE": "discovery.settings"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_check_is_clean_with_the_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_warns_without_them():
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "DEBUG": "1"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0 and "DEBUG" in result.stdout + result.stderr


def test_the_job_queue_uses_the_database_by_default_and_redis_when_asked(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    cluster = settings_values(env, "Q_CLUSTER")["Q_CLUSTER"]
    assert cluster["orm"] == "default" and "redis" not in cluster
    assert cluster["timeout"] < cluster["retry"] and 1 <= cluster["max_attempts"] <= 10

    cluster = settings_values({**env, "REDIS_URL": "redis://127.0.0.1:6379/0"}, "Q_CLUSTER")["Q_CLUSTER"]
    assert cluster["redis"] == "redis://127.0.0.1:6379/0" and "orm" not in cluster


def test_a_local_secret_key_is_generated_once_and_kept_private(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    first = settings_values(env, "SECRET_KEY")["SECRET_KEY"]
    second = settings_values(env, "SECRET_KEY")["SECRET_KEY"]
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_safe_defaults_without_any_variables(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    values = settings_values(env, "DEBUG", "ALLOWED_HOSTS", "DATABASES")
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"

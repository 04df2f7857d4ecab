import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_fresh_database_is_real_and_has_postgis(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        (version,) = conn.execute("SELECT postgis_lib_version()").fetchone()  # type: ignore[misc]
    assert version.startswith("3")


def test_wrong_password_is_refused(postgres_server) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(postgres_server.dsn(password="wrong"))

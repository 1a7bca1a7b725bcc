"""GED settings from the environment, with loud failures on bad values."""

from tests.platform.test_settings import run_django

SHOW = (
    "from django.conf import settings as s\n"
    "print(s.GED_MAX_UPLOAD_SIZE, ','.join(s.GED_ALLOWED_CONTENT_TYPES),\n"
    "      s.FILE_UPLOAD_MAX_MEMORY_SIZE, s.DATA_UPLOAD_MAX_NUMBER_FILES)\n"
)


def test_it_defaults_to_25_mb_and_the_five_types(tmp_path):
    result = run_django(SHOW, {"DEBUG": "true"}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(25 * 1024 * 1024),
        "application/pdf,image/jpeg,image/png,image/tiff,message/rfc822",
        "2621440",
        "20",
    ]


def test_it_reads_the_limits_and_types_from_the_environment(tmp_path):
    env = {
        "DEBUG": "true",
        "GED_MAX_UPLOAD_SIZE": "1000000",
        "GED_ALLOWED_CONTENT_TYPES": "application/pdf,message/rfc822",
        "GED_MAX_FILES_PER_REQUEST": "5",
    }

    result = run_django(SHOW, env, tmp_path)

    assert result.returncode == 0, result.stderr
    # Uploads smaller than the memory threshold are never spooled to disk for nothing.
    assert result.stdout.split() == ["1000000", "application/pdf,message/rfc822", "1000000", "5"]


def test_it_refuses_to_start_with_an_unknown_type(tmp_path):
    env = {"DEBUG": "true", "GED_ALLOWED_CONTENT_TYPES": "application/pdf,text/html"}

    result = run_django("", env, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: GED_ALLOWED_CONTENT_TYPES has unknown types ['text/html']" in (
        result.stderr
    )


def test_it_refuses_to_start_with_a_size_limit_that_is_not_positive(tmp_path):
    result = run_django("", {"DEBUG": "true", "GED_MAX_UPLOAD_SIZE": "0"}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: GED_MAX_UPLOAD_SIZE must be a positive" in result.stderr

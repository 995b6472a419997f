"""Third-party code installed inside the project root (issue 20): on Lambda, dependencies
sit beside the function's code (``pip install -t .``), each with its ``*.dist-info``. They
are not the user's code: a library writing its own module state does not fail the handler.
A package of the user's own beside them, without a dist-info, is guarded.

``fixtures/installed`` holds the user's ``app`` and ``geo`` packages, a library package
``vendorlib`` and a single-module library ``tinylib``; the tests give the two libraries
their dist-info (with and without ``top_level.txt``), and one test really runs
``pip install -t`` into the root.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from project_support import allow_suggested, guarded, pip_install, write_dist_info

from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from project_support import Project, ProjectMaker


TRIPS = {
    "trips": [
        {"name": "Spring Tour", "origin": "berlin", "destination": "paris"},
        {"name": "Autumn Trip!", "origin": "paris", "destination": "madrid"},
    ]
}
LIBRARIES = {"vendorlib", "vendorlib.formats", "tinylib"}


def installed(make_project: ProjectMaker, *leaks: str) -> Project:
    """The fixture with both libraries installed as pip leaves them."""
    project = make_project("installed", leaks=leaks)
    write_dist_info(
        project.root, "vendorlib", "2.1.0", ["vendorlib/__init__.py", "vendorlib/formats.py"]
    )
    write_dist_info(project.root, "tinylib", "0.3.0", ["tinylib.py"], top_level=False)
    return project


def test_libraries_installed_in_the_root_are_not_guarded(make_project: ProjectMaker) -> None:
    project = installed(make_project)
    lambda_handler = project.import_module("app.handler").lambda_handler
    for number in range(5):
        trips = {"trips": [{**trip, "name": f"{trip['name']} {number}"} for trip in TRIPS["trips"]]}
        report = lambda_handler(trips, LambdaContext())["csv"].splitlines()
        assert report[0] == "trip,km,city"
        assert report[1] == f"spring-tour-{number},877,Paris"
    # the libraries kept what they cache: their business, not a leak of the handler's
    vendorlib, tinylib = sys.modules["vendorlib"], sys.modules["tinylib"]
    assert set(vendorlib._NORMALISED) == {"paris", "madrid"}
    assert tinylib.calls == 10
    assert len(tinylib._SLUGS) == 10

    names = set(guarded(lambda_handler))
    assert names == {"app", "app.handler", "geo"}
    assert not LIBRARIES & names
    assert set(project.loaded()) >= LIBRARIES  # loaded from the root, yet not the user's


def test_a_users_package_without_a_dist_info_beside_them_is_guarded(
    make_project: ProjectMaker,
) -> None:
    project = installed(make_project, "geo-append")
    lambda_handler = project.import_module("app.handler").lambda_handler
    before = project.state_of(["geo"])
    for _ in range(2):
        with pytest.raises(ScopeLeakError) as caught:
            lambda_handler(TRIPS, LambdaContext())
        message = str(caught.value)
        allow_suggested(message, "geo", "_LOOKUPS", ["geo._LOOKUPS"])
        assert "vendorlib" not in message
        assert "tinylib" not in message
        assert project.state_of(["geo"]) == before


def test_a_library_object_as_the_handler_target_guards_the_users_code(
    make_project: ProjectMaker,
) -> None:
    # handler(router): the target's code is the library's; the project is found from the
    # module that calls handler(), and the router's own counters are the library's business
    project = installed(make_project)
    clean = project.import_module("app.routed").lambda_handler
    event = {"action": "distance", "origin": "berlin", "destination": "madrid"}
    for _ in range(3):
        assert clean(event, LambdaContext()) == {"km": 1869}
    assert sys.modules["app.routed"].router.served == 3
    assert set(guarded(clean)) == {"app", "app.routed", "geo"}

    project = installed(make_project, "geo-append")
    leaky = project.import_module("app.routed").lambda_handler
    with pytest.raises(ScopeLeakError) as caught:
        leaky(event, LambdaContext())
    allow_suggested(str(caught.value), "geo", "_LOOKUPS", ["geo._LOOKUPS"])
    assert sys.modules["geo"]._LOOKUPS == []


PYTZ_HANDLER = {
    "app/__init__.py": "",
    "app/handler.py": """
        import datetime

        import pytz

        from lambdascope import handler


        @handler
        def lambda_handler(event, context):
            moment = datetime.datetime.fromisoformat(event["utc"]).replace(tzinfo=pytz.utc)
            return moment.astimezone(pytz.timezone(event["zone"])).isoformat()
        """,
}


def test_a_package_installed_with_pip_install_t_is_not_guarded(
    make_project: ProjectMaker,
) -> None:
    # pytz, pure Python, caches every zone it loads in its module-level _tzinfo_cache
    project = make_project(files=PYTZ_HANDLER)
    pip_install(project.root, "--no-deps", "pytz")
    installed_here = [project.root / "pytz", *project.root.glob("pytz-*.dist-info")]
    assert (installed_here[-1] / "RECORD").is_file()
    lambda_handler = project.import_module("app.handler").lambda_handler
    assert Path(sys.modules["pytz"].__file__).is_relative_to(project.root)
    zones = {"Europe/Berlin": "+01:00", "America/New_York": "-05:00", "Asia/Tokyo": "+09:00"}
    for zone, offset in zones.items():
        event = {"utc": "2026-01-15T12:00:00", "zone": zone}
        assert lambda_handler(event, LambdaContext()).endswith(offset)
    names = set(guarded(lambda_handler))
    assert names == {"app", "app.handler"}

    # the library does write its module state per call: watched when asked for by name
    project = make_project(files=PYTZ_HANDLER, options="modules=('pytz',)")
    for path in installed_here:
        shutil.copytree(path, project.root / path.name)
    watched = project.import_module("app.handler").lambda_handler
    with pytest.raises(ScopeLeakError, match=r"module 'pytz'"):
        watched({"utc": "2026-01-15T12:00:00", "zone": "Europe/Paris"}, LambdaContext())
    assert "pytz" in guarded(watched)

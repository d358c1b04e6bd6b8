"""The generated 2.24 client exposes exactly the surface the published SDK reference documents.

The reference (``../shared/reference/cvat-api-and-sdk-docs.txt``, sections "2.1.1 - APIs" and
"2.1.2 - Models") is parsed by :mod:`tests.reference.refdoc`. Each test lists every difference
it finds in one assertion. Differences the 2.24.0 schema explains (see
:mod:`tests.reference.surface`) do not fail; ``python -m tests.reference.report`` prints them.
"""

from __future__ import annotations

import pytest

from tests.reference import refdoc, surface
from tests.reference.surface import Difference

pytestmark = pytest.mark.skipif(
    not refdoc.DOC.is_file(), reason=f"the reference document is not at {refdoc.DOC}"
)


@pytest.fixture(scope="module")
def ref() -> refdoc.Reference:
    version = surface.package().SCHEMA_VERSION
    if version != "2.24.0":
        pytest.skip(
            f"cvat_sdk.api_client is generated from CVAT {version}; the reference is 2.24.0"
        )
    return refdoc.load()


@pytest.fixture(scope="module")
def classes() -> tuple[dict[str, type], list[Difference]]:
    return surface.model_classes()


def _assert_none(found: list[Difference], what: str) -> None:
    failing = surface.unexplained(found)
    explained = [d for d in found if d.explanation]
    message = f"{len(failing)} {what} differ from the reference:\n{surface.report(failing)}"
    if explained:
        message += (
            f"\n({len(explained)} more are explained by the schema; see tests.reference.report)"
        )
    if failing:
        pytest.fail(message, pytrace=False)


def test_the_reference_parses_completely(ref: refdoc.Reference) -> None:
    assert len(ref.apis) == 22
    assert len(ref.operations) == 152
    assert len(ref.models) == 200
    assert sum(m.enum_values is not None for m in ref.models.values()) > 30
    # every signature parameter has its row in the parameter table, and models have properties
    for op in ref.operations:
        assert [p.name for p in op.params] == [r.name for r in op.param_rows], op.name
    assert sum(len(m.rows) for m in ref.models.values()) > 900


def test_api_classes(ref: refdoc.Reference) -> None:
    _assert_none(surface.api_class_differences(ref), "API classes")


def test_operations(ref: refdoc.Reference) -> None:
    _assert_none(surface.operation_differences(ref), "operations")


def test_parameter_types(ref: refdoc.Reference) -> None:
    _assert_none(surface.parameter_type_differences(ref), "parameters")


def test_models(ref: refdoc.Reference, classes: tuple[dict[str, type], list[Difference]]) -> None:
    ours, broken = classes
    _assert_none(broken + surface.model_set_differences(ref, ours), "models")


def test_enum_models(
    ref: refdoc.Reference, classes: tuple[dict[str, type], list[Difference]]
) -> None:
    _assert_none(surface.enum_differences(ref, classes[0]), "enums")


def test_model_fields(
    ref: refdoc.Reference, classes: tuple[dict[str, type], list[Difference]]
) -> None:
    _assert_none(surface.field_differences(ref, classes[0]), "model fields")


def test_explanations_hold(
    ref: refdoc.Reference, classes: tuple[dict[str, type], list[Difference]]
) -> None:
    """Every tolerated difference has a known cause, and the causes have not gone stale."""
    ours = classes[0]
    found = [
        *surface.operation_differences(ref),
        *surface.enum_differences(ref, ours),
        *surface.field_differences(ref, ours),
    ]
    causes = {d.cause for d in found if d.explanation}
    assert causes <= set(surface.CAUSES), causes
    stale = sorted(set(surface.CAUSES) - causes)
    assert not stale, f"causes that no longer occur (drop them from surface.CAUSES): {stale}"

"""Annotation capabilities of tasks and jobs (``get_annotations``, ``set_annotations``,
``update_annotations``, ``remove_annotations``, ``import_annotations``)."""

from cvat_sdk.core.proxies._workflows import (
    AnnotationAction,
    AnnotationsMixin,
    AnnotationUpdateAction,
)

__all__ = ["AnnotationAction", "AnnotationUpdateAction", "AnnotationsMixin"]

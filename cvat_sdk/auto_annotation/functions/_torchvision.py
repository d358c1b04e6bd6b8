"""What the torchvision-based functions share: model and weights loading, label specs.

``weights_name=None`` builds the model with random weights (nothing is downloaded); the
labels then come from the metadata of the model's default weights, which is part of
torchvision itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cvat_sdk._optional import require

if TYPE_CHECKING:
    import torchvision.models
else:
    torchvision = require("torchvision", "pytorch", "the torchvision auto-annotation functions")
    require("torchvision.models", "pytorch", "the torchvision auto-annotation functions")

#: Category names torchvision uses for unused class indices.
_PLACEHOLDERS = frozenset({"__background__", "N/A", "no person"})


class TorchvisionFunction:
    """A torchvision model in eval mode, its preprocessing, and its categories."""

    def __init__(self, model_name: str, weights_name: str | None = "DEFAULT", **kwargs: Any):
        if not isinstance(model_name, str) or not model_name:
            raise ValueError("model_name: expected the name of a torchvision model")
        try:
            weights_enum = torchvision.models.get_model_weights(model_name)
        except (ValueError, KeyError):
            raise ValueError(f"model_name: torchvision has no model {model_name!r}") from None
        if weights_name is None:
            self._weights = None
            reference = weights_enum["DEFAULT"]
            kwargs.setdefault("weights_backbone", None)
            kwargs.setdefault("num_classes", len(reference.meta["categories"]))
        else:
            try:
                reference = self._weights = weights_enum[weights_name]
            except KeyError:
                choices = ", ".join(weights_enum.__members__)
                raise ValueError(
                    f"weights_name: {model_name} has no weights {weights_name!r} ({choices})"
                ) from None
        self._meta: dict[str, Any] = dict(reference.meta)
        self._transforms = reference.transforms()
        self._model = torchvision.models.get_model(model_name, weights=self._weights, **kwargs)
        self._model.eval()

    def _categories(self) -> list[tuple[int, str]]:
        return [
            (i, str(name))
            for i, name in enumerate(self._meta["categories"])
            if name not in _PLACEHOLDERS
        ]

    def _run(self, image: Any) -> dict[str, Any]:
        import torch

        with torch.inference_mode():
            results = self._model([self._transforms(image.convert("RGB"))])
        return results[0]  # type: ignore[no-any-return]

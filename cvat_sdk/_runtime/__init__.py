"""The handwritten runtime the generated ``cvat_sdk.api_client`` package is built on."""

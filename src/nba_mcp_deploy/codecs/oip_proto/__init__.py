"""The Open Inference Protocol's gRPC messages, built from its own proto (open_inference_grpc.proto,
Apache-2.0, LICENSE beside it) in a private descriptor pool.

Another `inference` package in the same process (tritonclient's, KServe's or MLServer's generated
modules register theirs in protobuf's default pool) cannot collide with these, and the wire format
is the same. `descriptor.py` is generated from the proto by `tools/gen_proto.py`.
"""

from typing import Any

from google.protobuf import descriptor_pool, message_factory

from nba_mcp_deploy.codecs.oip_proto.descriptor import SERIALIZED_FILE

PACKAGE = "inference"
SERVICE = f"{PACKAGE}.GRPCInferenceService"

_POOL = descriptor_pool.DescriptorPool()
_POOL.AddSerializedFile(SERIALIZED_FILE)


def message_class(name: str) -> Any:
    """The class of message `name` of the protocol's package (e.g. "ModelInferRequest")."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


def method_names() -> list[str]:
    """The service's methods, as the proto declares them."""
    return [method.name for method in _POOL.FindServiceByName(SERVICE).methods]


ServerLiveRequest = message_class("ServerLiveRequest")
ServerLiveResponse = message_class("ServerLiveResponse")
ServerReadyRequest = message_class("ServerReadyRequest")
ServerReadyResponse = message_class("ServerReadyResponse")
ModelReadyRequest = message_class("ModelReadyRequest")
ModelReadyResponse = message_class("ModelReadyResponse")
ServerMetadataRequest = message_class("ServerMetadataRequest")
ServerMetadataResponse = message_class("ServerMetadataResponse")
ModelMetadataRequest = message_class("ModelMetadataRequest")
ModelMetadataResponse = message_class("ModelMetadataResponse")
ModelInferRequest = message_class("ModelInferRequest")
ModelInferResponse = message_class("ModelInferResponse")
InferParameter = message_class("InferParameter")

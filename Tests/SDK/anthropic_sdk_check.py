"""The official anthropic Python SDK, unchanged, against a running relay's /v1/messages.

Environment: FAIRWAY_RELAY_BASE (e.g. http://127.0.0.1:8080, as ANTHROPIC_BASE_URL), FAIRWAY_KEY, FAIRWAY_MODELS (comma
separated: each is checked in full — an OpenAI-compatible deployment, an Anthropic one, a failover group). Prints one
line per check; exits non-zero on the first failure.
"""
import os

import anthropic

from checks import check

base_url = os.environ["FAIRWAY_RELAY_BASE"]
key = os.environ["FAIRWAY_KEY"]
models = os.environ["FAIRWAY_MODELS"].split(",")

client = anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0, timeout=30)
tools = [{
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]


for model in models:
    message = client.messages.create(
        model=model, max_tokens=64, system="Answer briefly.", messages=[{"role": "user", "content": "Say hello."}],
    )
    check(f"{model}: create", message.type == "message" and message.role == "assistant", message)
    text = "".join(block.text for block in message.content if block.type == "text")
    check(f"{model}: create text", len(text) > 0, message)
    check(f"{model}: create usage", message.usage.input_tokens > 0 and message.usage.output_tokens > 0, message.usage)
    check(f"{model}: stop reason", message.stop_reason == "end_turn", message.stop_reason)

    with client.messages.stream(model=model, max_tokens=64, messages=[{"role": "user", "content": "Count."}]) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(f"{model}: stream text", len(streamed) > 0 and streamed == "".join(b.text for b in final.content if b.type == "text"), streamed)
    check(f"{model}: stream usage", final.usage.output_tokens > 0, final.usage)

    asked = client.messages.create(
        model=model, max_tokens=64, tools=tools, tool_choice={"type": "auto"},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    uses = [block for block in asked.content if block.type == "tool_use"]
    check(f"{model}: tool_use", asked.stop_reason == "tool_use" and len(uses) == 1 and uses[0].input == {"city": "Paris"}, asked)
    answered = client.messages.create(
        model=model, max_tokens=64, tools=tools,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [block.model_dump() for block in asked.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny"}]},
        ],
    )
    check(f"{model}: tool_result round trip", any(b.type == "text" for b in answered.content), answered)

    with client.messages.stream(model=model, max_tokens=64, tools=tools, messages=[{"role": "user", "content": "Weather?"}]) as stream:
        final = stream.get_final_message()
    streamed_uses = [block for block in final.content if block.type == "tool_use"]
    check(f"{model}: streamed tool_use", len(streamed_uses) == 1 and streamed_uses[0].input == {"city": "Paris"}, final)

    counted = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "How many tokens is this?"}])
    check(f"{model}: count_tokens", counted.input_tokens > 0, counted)

try:
    anthropic.Anthropic(base_url=base_url, api_key="fw-" + "x" * 40, max_retries=0).messages.create(
        model=models[0], max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    check("authentication error", False, "no error raised")
except anthropic.AuthenticationError as error:
    check("authentication error", error.status_code == 401 and error.body["error"]["type"] == "authentication_error", error.body)

try:
    client.messages.create(model="no-such-model", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    check("not found error", False, "no error raised")
except anthropic.NotFoundError as error:
    check("not found error", error.status_code == 404, error.body)

try:
    client.messages.create(model=models[0], messages=[{"role": "user", "content": "hi"}], max_tokens=-5)
    check("bad request error", False, "no error raised")
except anthropic.BadRequestError as error:
    check("bad request error", error.body["error"]["type"] == "invalid_request_error", error.body)

print("all checks passed")

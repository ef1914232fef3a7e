"""The official openai Python SDK, unchanged, against a running relay.

Environment: FAIRWAY_RELAY_URL (e.g. http://127.0.0.1:8080/v1), FAIRWAY_KEY, FAIRWAY_OPENAI_MODEL (an openai-provider
deployment), FAIRWAY_ANTHROPIC_MODEL (an anthropic-provider deployment). Prints one line per check; exits non-zero on
the first failure.
"""
import json
import os

import openai

from checks import check

base_url = os.environ["FAIRWAY_RELAY_URL"]
key = os.environ["FAIRWAY_KEY"]
openai_model = os.environ["FAIRWAY_OPENAI_MODEL"]
anthropic_model = os.environ["FAIRWAY_ANTHROPIC_MODEL"]

client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=30)
messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}]
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]


def expect_error(name, error_type, call):
    try:
        call()
    except error_type as error:
        check(name, True)
        return error
    except Exception as error:  # noqa: BLE001 - report what was raised instead
        check(name, False, f"raised {type(error).__name__}: {error}")
    check(name, False, "no exception")


for model in (openai_model, anthropic_model):
    answer = client.chat.completions.create(model=model, messages=messages)
    check(f"{model}: chat", bool(answer.choices[0].message.content), answer)
    check(f"{model}: chat usage", answer.usage is not None and answer.usage.completion_tokens > 0, answer.usage)

    text, usage = "", None
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    check(f"{model}: streaming chat", len(text) > 0, text)
    check(f"{model}: streaming usage", usage is not None and usage.completion_tokens > 0, usage)

    called = client.chat.completions.create(model=model, messages=messages, tools=tools)
    calls = called.choices[0].message.tool_calls or []
    check(f"{model}: tool call", len(calls) == 1 and calls[0].function.name == "get_weather", called)
    check(f"{model}: tool arguments", json.loads(calls[0].function.arguments) == {"city": "Paris"}, calls[0].function.arguments)
    check(f"{model}: finish reason", called.choices[0].finish_reason == "tool_calls", called.choices[0].finish_reason)

    followup = messages + [
        {"role": "assistant", "content": None, "tool_calls": [c.model_dump() for c in calls]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
    ]
    after = client.chat.completions.create(model=model, messages=followup, tools=tools)
    check(f"{model}: answer after tool result", bool(after.choices[0].message.content), after)

    names, arguments = set(), ""
    for chunk in client.chat.completions.create(model=model, messages=messages, tools=tools, stream=True):
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if call.function and call.function.name:
                names.add(call.function.name)
            if call.function and call.function.arguments:
                arguments += call.function.arguments
    check(f"{model}: streamed tool call", names == {"get_weather"} and json.loads(arguments) == {"city": "Paris"}, (names, arguments))

completion = client.completions.create(model=openai_model, prompt="Once upon a time", max_tokens=8)
check("completions", bool(completion.choices[0].text) and completion.usage.completion_tokens > 0, completion)

embedding = client.embeddings.create(model=openai_model, input=["one", "two"])
check("embeddings", len(embedding.data) == 2 and len(embedding.data[0].embedding) > 0, embedding)

listed = [model.id for model in client.models.list()]
check("models list", openai_model in listed and anthropic_model in listed, listed)

expect_error("bad key → AuthenticationError", openai.AuthenticationError,
             lambda: openai.OpenAI(base_url=base_url, api_key="fw-" + "x" * 40, max_retries=0)
             .chat.completions.create(model=openai_model, messages=messages))
expect_error("unknown model → NotFoundError", openai.NotFoundError,
             lambda: client.chat.completions.create(model="no-such-model", messages=messages))
expect_error("missing messages → BadRequestError", openai.BadRequestError,
             lambda: client.chat.completions.create(model=openai_model, messages=[]))
expect_error("anthropic embeddings → BadRequestError", openai.BadRequestError,
             lambda: client.embeddings.create(model=anthropic_model, input="x"))
print("all checks passed")

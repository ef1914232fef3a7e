"""The official openai Python SDK's Responses API, unchanged, against a running relay's /v1/responses.

Environment: FAIRWAY_RELAY_URL (…/v1), FAIRWAY_KEY, FAIRWAY_MODELS (comma separated: each checked in full — a deployment
with native Responses, one without, an Anthropic one), FAIRWAY_TRANSLATED_MODEL (a deployment without native Responses,
for the refused stateful field). Prints one line per check; exits non-zero on the first failure.
"""
import json
import os

import openai

from checks import check

client = openai.OpenAI(base_url=os.environ["FAIRWAY_RELAY_URL"], api_key=os.environ["FAIRWAY_KEY"], max_retries=0, timeout=30)
models = os.environ["FAIRWAY_MODELS"].split(",")
tools = [{
    "type": "function", "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]


for model in models:
    response = client.responses.create(model=model, instructions="Answer briefly.", input="Say hello.", max_output_tokens=64)
    check(f"{model}: create", response.status == "completed" and len(response.output_text) > 0, response)
    check(f"{model}: usage", response.usage.input_tokens > 0 and response.usage.output_tokens > 0, response.usage)

    with client.responses.stream(model=model, input=[{"role": "user", "content": "Count."}]) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    check(f"{model}: stream text", len(deltas) > 0 and "".join(deltas) == final.output_text, (deltas, final))
    check(f"{model}: stream usage", final.usage is not None and final.usage.output_tokens > 0, final.usage)

    asked = client.responses.create(model=model, input="Weather in Paris?", tools=tools)
    calls = [item for item in asked.output if item.type == "function_call"]
    check(f"{model}: function call", len(calls) == 1 and json.loads(calls[0].arguments) == {"city": "Paris"}, asked)
    answered = client.responses.create(model=model, tools=tools, input=[
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": calls[0].call_id, "name": calls[0].name, "arguments": calls[0].arguments},
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"},
    ])
    check(f"{model}: function call output round trip", len(answered.output_text) > 0, answered)

    with client.responses.stream(model=model, input="Weather?", tools=tools) as stream:
        argument_deltas = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    streamed_calls = [item for item in final.output if item.type == "function_call"]
    check(f"{model}: streamed function call", len(streamed_calls) == 1 and json.loads("".join(argument_deltas)) == {"city": "Paris"}, final)

try:
    client.responses.create(model=os.environ["FAIRWAY_TRANSLATED_MODEL"], input="again", previous_response_id="resp_123")
    check("previous_response_id refused", False, "no error raised")
except openai.BadRequestError as error:
    check("previous_response_id refused", error.body.get("param") == "previous_response_id", error.body)

print("all checks passed")

"""The official SDKs read cached answers replayed as streams exactly like live ones (chat, Messages, Responses).

Each first request is a miss that the relay stores; the streamed repeat is a hit replayed from the cache.
"""
import os

import anthropic
import openai

from checks import check

base = os.environ["FAIRWAY_RELAY_URL"]
key = os.environ["FAIRWAY_KEY"]
model = os.environ["FAIRWAY_OPENAI_MODEL"]
claude = os.environ["FAIRWAY_ANTHROPIC_MODEL"]

client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
messages = [{"role": "user", "content": "cache me, SDK"}]
first = client.chat.completions.with_raw_response.create(model=model, messages=messages)
check("chat: first request is a miss", first.headers.get("x-fairway-cache") == "miss", dict(first.headers))
answer = first.parse()
raw = client.chat.completions.with_raw_response.create(
    model=model, messages=messages, stream=True, stream_options={"include_usage": True}
)
check("chat: streamed repeat is a hit", raw.headers.get("x-fairway-cache") == "hit", dict(raw.headers))
text, finish, usage = "", None, None
for chunk in raw.parse():
    if chunk.usage:
        usage = chunk.usage
    for choice in chunk.choices:
        text += choice.delta.content or ""
        finish = choice.finish_reason or finish
check("chat: replayed text", text == answer.choices[0].message.content, repr(text))
check("chat: replayed finish reason", finish == answer.choices[0].finish_reason, repr(finish))
check("chat: replayed usage", usage is not None and usage.completion_tokens == answer.usage.completion_tokens, repr(usage))

client_a = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
prompt = [{"role": "user", "content": "cache me, Claude"}]
created = client_a.messages.with_raw_response.create(model=claude, max_tokens=64, messages=prompt)
check("messages: first request is a miss", created.headers.get("x-fairway-cache") == "miss", dict(created.headers))
message = created.parse()
with client_a.messages.stream(model=claude, max_tokens=64, messages=prompt) as stream:
    final = stream.get_final_message()
    headers = stream.response.headers
check("messages: streamed repeat is a hit", headers.get("x-fairway-cache") == "hit", dict(headers))
check("messages: replayed text", final.content[0].text == message.content[0].text, repr(final.content))
check("messages: replayed stop reason", final.stop_reason == message.stop_reason, repr(final.stop_reason))

response = client.responses.with_raw_response.create(model=model, input="cache me, Responses")
check("responses: first request is a miss", response.headers.get("x-fairway-cache") == "miss", dict(response.headers))
expected = response.parse().output_text
streamed = client.responses.with_raw_response.create(model=model, input="cache me, Responses", stream=True)
check("responses: streamed repeat is a hit", streamed.headers.get("x-fairway-cache") == "hit", dict(streamed.headers))
deltas, completed = "", None
for event in streamed.parse():
    if event.type == "response.output_text.delta":
        deltas += event.delta
    if event.type == "response.completed":
        completed = event.response
check("responses: replayed deltas", deltas == expected, repr(deltas))
check("responses: replayed completion", completed is not None and completed.output_text == expected, repr(completed))
print("all checks passed")

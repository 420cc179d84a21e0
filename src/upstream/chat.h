/* chat: an upstream chat engine (--upstream NAME=URL,api=chat): a model
 * name served by an OpenAI-compatible engine's POST /v1/chat/completions
 * (llama-server, vLLM, Ollama, SGLang), as an ia_engine (engine.h's
 * ia_engine_backend), so that core's run loop, streaming, background
 * runs, cancel, storage and chains run it as they run a local model.
 *
 * A job is one streamed request (stream: true, stream_options.include_usage)
 * on a thread of its own: the system instruction and the whole history
 * (text, reasoning, calls and their results) as messages, the functions as
 * `tools`, tool_choice, structured output as response_format json_schema,
 * stop, temperature / top_p / top_k / seed / max_tokens. The answer's
 * reasoning_content deltas become the thought item, its content deltas the
 * text item, its tool_calls (argument deltas joined by index) the call
 * items at the end; usage gives the counts (prompt_tokens_details.
 * cached_tokens the cached ones). An engine that answers with one JSON
 * document instead of a stream is read the same way.
 *
 * Errors (every message names the upstream, never its URL or key): the
 * engine's 400/422 is IA_EINVALID (400) quoting its message, 429
 * IA_ERATELIMIT, 503 IA_EOVERLOADED, other statuses and broken answers
 * IA_EUPSTREAM (502), an engine that cannot be reached IA_EOVERLOADED
 * (503, retry in 5 s), timeout= passed IA_EDEADLINE (504); the job then
 * finishes IA_FINISH_ERROR. A cancel (the job's flag, polled by libcurl's
 * progress callback, or on_item asking to stop) closes the connection. */
#ifndef IA_UPSTREAM_CHAT_H
#define IA_UPSTREAM_CHAT_H

#include "engine/engine.h"
#include "upstream/upstream.h"

/* The engine serving u (kind IA_UPSTREAM_CHAT) under u->name; u must
 * outlive it. Freed with ia_engine_free, which cancels its running jobs
 * and waits for them. */
ia_engine *ia_upstream_chat_engine(const ia_upstream *u);

#endif

"""The ``local`` provider kind: GGUF models run in-process with llama-cpp-python, fully offline.

    <data root>/models/*.gguf ──► LocalGGUFProvider.list_models() (header only, no load: gguf_header.py)
    stream_chat ──► ModelPool.acquire(path) ──► worker thread: llm.create_chat_completion(stream=True)
                                            └─► parse_model_output(text pieces) ──► TextDelta | ToolCallDelta

    options.py    the kind's settings (models folder, resident limit, idle time, context)
    parser.py     tool calls out of a model's text (a pure function)
    pool.py       loaded models: lazy load, LRU eviction, idle unload
    provider.py   the adapter (the ``Provider`` protocol of ``providers/events.py``)
    importer.py   copying a GGUF file into the models folder

llama-cpp-python is optional: without it the catalog still lists models (headers are read here)
and chat answers a ProviderError saying how to add it.
"""

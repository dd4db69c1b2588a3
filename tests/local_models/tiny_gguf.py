"""Write a tiny random-weight llama GGUF with the ``gguf`` package (no download; ~0.5 MB).

2 layers, n_embd 64, an SPM vocabulary of ~400 tokens (3 specials, 256 byte tokens, common words
and letters) and a ChatML chat template that knows about tools. Its output is gibberish, but it
loads in milliseconds and streams like a real model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHAT_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nTools: {{ tools | tojson }}<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORDS = ("the and to of a in is you that it for on with as are this be at or have from by not but what all "
         "were when we there can an your which their said if do will each about how up out them then she many "
         "some so these would other into has more her two like him see time could no make than first been its "
         "who now people my made over did down only way find use may water long little very after words called "
         "just where most know get through back much go good new write our me man too any day same right look "
         "think also around another came come work three word must because does part even place well such here "
         "take why things help put years different away again off went old number great tell men say small every "
         "found still between name should home big give air line set own under read last never us left end along "
         "while might next sound below saw something thought both few those always looked show large often together "
         "asked house don't world going want school important until form food keep children feet land side without "
         "boy once animals life enough took sometimes four head above kind began almost live page got earth need far "
         "hand high year mother light parts country father let night following picture being study second eyes "
         "hello world model local qorven").split()


def write_tiny_llama(path: Path, *, seed: int = 0, n_layer: int = 2, n_embd: int = 64,
                     context_length: int = 2048, fim: bool = False) -> Path:
    """Write the model to ``path``; ``fim`` adds fill-in-the-middle tokens (``<PRE>``, ``<SUF>``, ``<MID>``)."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens: list[bytes] = [b"<unk>", b"<s>", b"</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>".encode())
        types.append(gguf.TokenType.BYTE)
    seen = set()
    for w in WORDS + list("abcdefghijklmnopqrstuvwxyz"):
        piece = "\u2581" + w
        if piece not in seen:
            seen.add(piece)
            tokens.append(piece.encode())
            types.append(gguf.TokenType.NORMAL)
    fim_ids = []
    if fim:
        for piece in ("<PRE>", "<SUF>", "<MID>"):
            fim_ids.append(len(tokens))
            tokens.append(piece.encode())
            types.append(gguf.TokenType.CONTROL)
    scores = [0.0] * 3 + [-1000.0] * 256 + [-float(i) for i in range(len(tokens) - 259)]
    n_vocab, n_ff, n_head = len(tokens), n_embd * 2, 4

    path = Path(path)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-random-llama")
    w.add_context_length(context_length)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_chat_template(CHAT_TEMPLATE)
    for key, token_id in zip((gguf.Keys.Tokenizer.FIM_PRE_ID, gguf.Keys.Tokenizer.FIM_SUF_ID,
                              gguf.Keys.Tokenizer.FIM_MID_ID), fim_ids):
        w.add_uint32(key, token_id)

    def t(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    t("token_embd.weight", n_vocab, n_embd)
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    t("output.weight", n_vocab, n_embd)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", n_embd, n_embd)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path

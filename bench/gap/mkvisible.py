#!/usr/bin/env python3
"""mkvisible.py: copy a GGUF, turning every vocabulary entry that renders to
no text (unused/control fillers of the demo generator's vocab) into a
visible word piece "▁w<id>" (type normal). Weights, tensor layout and all
other metadata are copied unchanged, so compute speed is the same.

Why: the demo generator's random-weight models (build/mkdemo) sample mostly
those invisible tokens, so a streaming server sends no text frame for them
and a client cannot time the gap between tokens. With every sampled token
visible, interactd sends one content.delta per token and llama-server one
chunk per token, and both can be timed the same way. Prompt tokenization is
unchanged for text without "w<digits>" words.

With --words (bench/chat), the entries become "▁" + lowercase letters
instead, named so that every prefix of a name is a token too (all two- and
three-letter names before any of four): the SentencePiece tokenizer then
reads a sampled answer's text back as exactly the tokens sampled, as a real
model's answers mostly read back, so a server that re-tokenizes a history
(llama-server) sees as many tokens as one that keeps them (interactd).

Usage: mkvisible.py [--words] IN.gguf OUT.gguf   (pure Python, no numpy)"""
import itertools
import string as letters
import struct
import sys

SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def word_names(taken):
    """Prefix-closed names, shortest first, none already a token."""
    for n in itertools.count(2):
        for t in itertools.product(letters.ascii_lowercase, repeat=n):
            name = "\u2581" + "".join(t)
            if name.encode() not in taken:
                yield name


def main(src, dst, words=False):
    f = open(src, "rb")
    buf = f.read(16 << 20)  # metadata is far smaller than this
    pos = 0

    def take(n):
        nonlocal pos
        b = buf[pos:pos + n]
        pos += n
        return b

    def u32():
        return struct.unpack("<I", take(4))[0]

    def u64():
        return struct.unpack("<Q", take(8))[0]

    def string():
        return take(u64())

    def value(t):
        if t in SIZES:
            return take(SIZES[t])
        if t == 8:
            return string()
        if t == 9:
            it, n = u32(), u64()
            return (it, [value(it) for _ in range(n)])
        raise ValueError(f"type {t}")

    assert take(4) == b"GGUF"
    version, n_t, n_kv = u32(), u64(), u64()
    kvs = []
    for _ in range(n_kv):
        k = string()
        t = u32()
        kvs.append((k, t, value(t)))
    tinfo_start = pos
    for _ in range(n_t):
        string()
        nd = u32()
        take(8 * nd + 4 + 8)
    tinfo = buf[tinfo_start:pos]
    align = 32
    for k, t, v in kvs:
        if k == b"general.alignment":
            align = struct.unpack("<I", v)[0]
    data_off = (pos + align - 1) // align * align

    d = {k: i for i, (k, _, _) in enumerate(kvs)}
    toks = kvs[d[b"tokenizer.ggml.tokens"]][2][1]
    types = kvs[d[b"tokenizer.ggml.token_type"]][2][1]
    changed = 0
    names = word_names(set(toks)) if words else None
    for i, (tok, ty) in enumerate(zip(toks, types)):
        ty = struct.unpack("<i", ty)[0]
        # 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
        # Keep <unk>/<s>/</s> and the chat markers (control tokens whose text
        # is <|...|>); rewrite the rest that render empty, and the byte
        # tokens <0x80>..<0xFF>: a sampled lone high byte is invalid UTF-8,
        # which llama-server holds back (its stream then stalls). The ASCII
        # byte tokens stay: the tokenizer needs them for "\n" and the like
        # (llama.cpp throws if a byte's token is missing), and they are
        # valid UTF-8. So only ASCII prompts are safe with the output model.
        high_byte = ty == 6 and tok.startswith(b"<0x") and int(tok[3:5], 16) >= 0x80
        if ty == 5 or high_byte or (ty == 3 and not tok.startswith(b"<|") and i > 2) or tok == b"":
            toks[i] = (next(names) if words else f"\u2581w{i}").encode()
            types[i] = struct.pack("<i", 1)
            changed += 1

    out = bytearray()
    out += b"GGUF" + struct.pack("<IQQ", version, n_t, n_kv)

    def emit(t, v):
        if t in SIZES:
            out.extend(v)
        elif t == 8:
            out.extend(struct.pack("<Q", len(v)) + v)
        else:
            it, items = v
            out.extend(struct.pack("<IQ", it, len(items)))
            for x in items:
                emit(it, x)

    for k, t, v in kvs:
        out += struct.pack("<Q", len(k)) + k + struct.pack("<I", t)
        emit(t, v)
    out += tinfo
    out += b"\0" * ((-len(out)) % align)
    with open(dst, "wb") as g:
        g.write(out)
        f.seek(data_off)
        while True:
            chunk = f.read(1 << 22)
            if not chunk:
                break
            g.write(chunk)
    print(f"{dst}: {changed} of {len(toks)} tokens made visible")


if __name__ == "__main__":
    args = sys.argv[1:]
    words = args[:1] == ["--words"]
    if words:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], args[1], words)

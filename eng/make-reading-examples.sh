#!/bin/bash
# Writes the small files that docs/cli.md's "Reading real files: before and after" table runs
# `failuresynth dataset inspect` on. Usage: eng/make-reading-examples.sh DIR (DIR is emptied first).
set -euo pipefail
d=${1:?usage: eng/make-reading-examples.sh DIR}
rm -rf "$d"; mkdir -p "$d/img" "$d/vqa" "$d/sqa" "$d/lf/img"
python3 - "$d" <<'PY'
import json, sys, os, struct, zlib
d = sys.argv[1]
def png(path):
    raw = b'\x00\xff\x00\x00'
    def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    os.makedirs(os.path.dirname(path), exist_ok=True); open(path, 'wb').write(data)
def w(name, obj): open(os.path.join(d, name), 'w').write(json.dumps(obj, indent=1))
T = lambda f, v: {"from": f, "value": v}
png(f"{d}/img/a.png")
w("no-id.json", [{"image": "img/a.png", "conversations": [T("human", "<image>\nWhat color?"), T("gpt", "Red.")]}])
w("later-token.json", [{"id": "a", "image": "img/a.png", "conversations": [T("human", "Hi, can you help?"), T("gpt", "Yes."), T("human", "What shape is this?\n<image>"), T("gpt", "A circle.")]}])
w("leading-gpt.json", [{"id": "a", "image": "img/a.png", "conversations": [T("gpt", "Welcome."), T("human", "<image>\nHow many?"), T("gpt", "Two.")]}])
w("odd-turns.json", [{"id": "a", "conversations": [T("human", "Q?"), T("gpt", "A."), T("gpt", "More.")]}])
w("bad-utf8.json", [{"id": "a", "note": "BAD", "conversations": [T("human", "Q?"), T("gpt", "A.")]}])
b = open(f"{d}/bad-utf8.json", 'rb').read(); open(f"{d}/bad-utf8.json", 'wb').write(b.replace(b'BAD', b'\xffAD'))
lines = [{"id": f"q{i}", "question": f"Q{i}?", "answer": "BAD" if i == 3 else "x"} for i in (1, 2, 3)]
open(f"{d}/bad-utf8.jsonl", 'wb').write(b''.join(json.dumps(l).encode() + b'\n' for l in lines).replace(b'BAD', b'\xc3AD'))
open(f"{d}/trailing-comma.json", 'w').write('[{"id": "a",}]\n')
open(f"{d}/empty.json", 'w').write('')
w("vqa/v2_OpenEnded_mscoco_val2014_questions.json", {"data_subtype": "val2014", "data_type": "mscoco", "questions": [{"image_id": 1, "question": "Is it red?", "question_id": 10}]})
w("sqa/problems.json", {"1": {"question": "Which is north?", "choices": ["A", "B"], "answer": 0, "hint": "", "image": "image.png", "subject": "social science", "skill": "maps", "split": "train"}})
w("sqa/pid_splits.json", {"train": ["1"], "val": [], "test": []})
png(f"{d}/sqa/images/train/1/image.png")
png(f"{d}/lf/img/a.png")
M = lambda r, c: {"role": r, "content": c}
w("lf/mllm.json", [{"messages": [M("user", "<image>Who is this?"), M("assistant", "A player.")], "images": ["img/a.png"]}])
w("lf/dataset_info.json", {"mllm": {"file_name": "mllm.json", "formatting": "sharegpt", "columns": {"messages": "messages", "images": "images"},
   "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}}})
PY

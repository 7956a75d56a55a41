#!/usr/bin/env python3
"""Which axis a student reads when asked "How far from the top (left) edge is the X?" (docs/experiments-targeting.md).

Usage: eng/relate-axis.py DATASET REPORT...

DATASET is a folder from `failuresynth world generate` with relate questions; each REPORT is a `failuresynth student
eval --mode reasoning` report on it. For every question whose subject matches exactly one object of its scene and whose
step-1 answer is a number, the student's step-1 answer is correlated with that object's true y and x on the 0..20 scale.
"""
import json
import math
import sys


def correlation(a, b):
    n = len(a)
    mean_a, mean_b = sum(a) / n, sum(b) / n
    spread_a = math.sqrt(sum((x - mean_a) ** 2 for x in a))
    spread_b = math.sqrt(sum((y - mean_b) ** 2 for y in b))
    return sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b)) / (spread_a * spread_b)


def subject_object(sample):
    provenance = sample["provenance"]
    subject = provenance["program"]["subject"]
    matches = [o for o in provenance["scene"]["objects"] if all(o.get(k) == v for k, v in subject.items() if k in o)]
    return matches[0] if len(matches) == 1 else None


def main(dataset, reports):
    samples = {}
    with open(f"{dataset}/provenance.jsonl", encoding="utf-8") as lines:
        for line in lines:
            sample = json.loads(line)
            samples[sample["id"]] = sample
    for path in reports:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        steps, ys, xs = [], [], []
        for answer in report["answers"]:
            obj = subject_object(samples[answer["id"]])
            first = answer["step_answers"][0] if answer["step_answers"] else ""
            if obj is None or not first.isdigit():
                continue
            steps.append(int(first))
            ys.append(obj["y"] * 20)
            xs.append(obj["x"] * 20)
        if len(steps) < 2:
            sys.exit(f"{path}: fewer than two questions with one subject object and a numeric step-1 answer")
        print(f"{path}: final {100 * report['overall_accuracy']:.1f} %, {len(steps)} questions, "
              f"corr(step 1, y) {correlation(steps, ys):.2f}, corr(step 1, x) {correlation(steps, xs):.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])

"""What the coin-flip job (`jobs/coinflip`) writes to `tally.json`, computed independently.

The job flips `flips` coins with splitmix64 seeded with `seed` (heads: the low bit is 1) and
writes `{"seed":S,"flips":N,"heads":H,"tails":T}` and a newline; the worker puts that file on
chain as the job's small output.
"""

MASK = (1 << 64) - 1


def splitmix64(state: int):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def tally(seed: int, flips: int) -> bytes:
    rng = splitmix64(seed)
    heads = sum(next(rng) & 1 for _ in range(flips))
    return f'{{"seed":{seed},"flips":{flips},"heads":{heads},"tails":{flips - heads}}}\n'.encode()


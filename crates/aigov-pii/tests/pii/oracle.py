#!/usr/bin/env python3
"""Cases for aigov's validators with python-stdnum's verdicts: JSON lines {kind, value, valid}."""
import json
import random
import sys

from faker import Faker
from stdnum import iban, luhn
from stdnum.cn import ric, uscc
from stdnum.us import ssn

rnd = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
zh, gb, de, en = Faker("zh_CN"), Faker("en_GB"), Faker("de_DE"), Faker("en_US")
for i, f in enumerate((zh, gb, de, en)):
    f.seed_instance(100 + i)


def mutate(s, alphabet):
    i = rnd.randrange(len(s))
    c = rnd.choice([a for a in alphabet if a != s[i]])
    return s[:i] + c + s[i + 1:]


def out(kind, value, valid):
    print(json.dumps({"kind": kind, "value": value, "valid": bool(valid)}))


def stdnum_ric(v):
    """stdnum's check character and birth date (its birth-place check, which also rejects
    area codes created after the birth year, is deliberately not part of aigov's test: the
    area code only raises the score)."""
    if len(v) != 18 or not v[:17].isdigit():
        return False
    if v[-1] != ric.calc_check_digit(v):
        return False
    try:
        ric.get_birth_date(v)
    except Exception:
        return False
    return True


DIG = "0123456789"
ALPHA31 = "0123456789ABCDEFGHJKLMNPQRTUWXY"
for _ in range(3000):
    r = zh.ssn()
    m = mutate(r[:17], DIG) + r[17]
    for v in (r, m):
        verdict = stdnum_ric(v)
        if verdict is not None:
            out("resident_id", v, verdict)
    # stdnum also requires a known birth place: keep Faker's (real) area codes.
    raw = r[:6] + str(rnd.randint(1900, 2099)) + "".join(rnd.choice(DIG) for _ in range(7)) + rnd.choice(DIG + "X")
    verdict = stdnum_ric(raw)
    if verdict is not None:
        out("resident_id", raw, verdict)

    body = rnd.choice("159") + rnd.choice("123") + "".join(rnd.choice(DIG) for _ in range(6)) + "".join(rnd.choice(ALPHA31) for _ in range(10))
    out("uscc", body, uscc.is_valid(body))
    fixed = body[:17] + uscc.calc_check_digit(body[:17])
    out("uscc", fixed, uscc.is_valid(fixed))

    n = "".join(rnd.choice(DIG) for _ in range(rnd.randint(12, 19)))
    out("luhn", n, luhn.is_valid(n))
    c = en.credit_card_number()
    out("luhn", c, luhn.is_valid(c))

    # aigov checks the country's length and mod-97, not each country's BBAN layout, so the
    # cases keep to numbers whose layout is right (Faker's GB numbers sometimes are not).
    ib = rnd.choice([gb, de]).iban()
    if iban.is_valid(ib, check_country=False):
        i = rnd.choice([k for k, ch in enumerate(ib) if ch.isdigit()])
        bad = ib[:i] + rnd.choice(DIG.replace(ib[i], "")) + ib[i + 1:]
        out("iban", ib, True)
        out("iban", bad, iban.is_valid(bad, check_country=False))

    s = "".join(rnd.choice(DIG) for _ in range(9))
    if len(set(s)) > 1:
        out("us_ssn", s, ssn.is_valid(s))
    for edge in ("000", "666", "900", "078"):
        e = edge + s[3:]
        if len(set(e)) > 1:
            out("us_ssn", e, ssn.is_valid(e))

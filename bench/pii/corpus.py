#!/usr/bin/env python3
"""Labelled PII corpus for aigov's tests and benchmarks.

Writes JSON lines {"id": n, "lang": "zh"|"en", "text": "..."} and, beside them, labels
{"record": n, "field": "$.text", "start": s, "end": e, "entity_type": T} with UTF-8 byte
offsets into the text. Identifiers come from Faker (zh_CN and en_US locales) where Faker has
them, and are generated here with their real check digits where it does not (USCC, UnionPay
cards, bitcoin addresses, provider keys). Phone numbers are kept only when the `phonenumbers`
package (libphonenumber metadata) says they are valid. Filler sentences and distractors
(invalid check digits, order numbers, dates, version strings) carry no label.

usage: corpus.py --records N --seed S --out corpus.jsonl --labels labels.jsonl
                 [--density D] [--target-bytes B]
"""

import argparse
import base64
import hashlib
import json
import random
import string

import phonenumbers
from faker import Faker

USCC_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def luhn_complete(prefix, length, rnd):
    digits = prefix + "".join(rnd.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(digits)):
        v = int(d)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return digits + str((10 - total % 10) % 10)


def org_code(rnd):
    """GB 11714 organisation code: 8 characters and a mod-11 check character."""
    body = "".join(rnd.choice(string.digits + string.ascii_uppercase) for _ in range(8))
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55
    c = 11 - sum(val(ch) * w for ch, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc(rnd):
    body = rnd.choice("159") + rnd.choice("123") + rnd.choice(["110000", "310115", "440300", "330106"])
    while True:
        org = org_code(rnd)
        if all(ch in USCC_ALPHA for ch in org):
            break
    body += org
    s = sum(USCC_ALPHA.index(c) * w for c, w in zip(body, USCC_W))
    return body + USCC_ALPHA[(31 - s % 31) % 31]


def b58check(version, payload):
    data = bytes([version]) + payload
    chk = hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    n = int.from_bytes(data + chk, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(data + chk) - len((data + chk).lstrip(b"\0"))
    return "1" * pad + out


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def segwit_address(program):
    conv, acc, bits = [], 0, 0
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            conv.append((acc >> bits) & 31)
    if bits:
        conv.append((acc << (5 - bits)) & 31)
    data = [0] + conv
    hrp = "bc"
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = bech32_polymod(exp + data + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + chk)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.zh = Faker("zh_CN")
        self.en = Faker("en_US")
        self.gb = Faker("en_GB")
        self.de = Faker("de_DE")
        for i, f in enumerate((self.zh, self.en, self.gb, self.de)):
            f.seed_instance(seed * 10 + i)

    def digits(self, n):
        return "".join(self.rnd.choice(string.digits) for _ in range(n))

    def alnum(self, n, alphabet=string.ascii_letters + string.digits):
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    # --- entities: each returns the value as written ---
    def cn_resident_id(self):
        return self.zh.ssn()

    def cn_uscc(self):
        return uscc(self.rnd)

    def cn_mobile(self):
        m = self.zh.phone_number()
        style = self.rnd.random()
        if style < 0.15:
            return f"+86 {m[:3]} {m[3:7]} {m[7:]}"
        if style < 0.3:
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        return m

    def cn_landline(self):
        area = self.rnd.choice(["010", "021", "020", "025", "0755", "0571", "028", "0512"])
        n = 8 if len(area) == 3 else self.rnd.choice([7, 8])
        sub = self.rnd.choice("2345678") + self.digits(n - 1)
        return self.rnd.choice([f"{area}-{sub}", f"({area}){sub}", f"{area}{sub}"])

    def cn_passport(self):
        return self.rnd.choice(["E", "G"]) + self.digits(8) if self.rnd.random() < 0.7 else "E" + self.rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + self.digits(7)

    def cn_license_plate(self):
        p = self.rnd.choice(PROVINCES) + self.rnd.choice(PLATE_LETTERS)
        r = self.rnd.random()
        if r < 0.2:
            return p + self.rnd.choice("DF") + self.rnd.choice(PLATE_LETTERS + string.digits) + self.digits(4)
        if r < 0.3:
            return p + self.digits(5) + self.rnd.choice("DF")
        return p + self.digits(3) + "".join(self.rnd.choice(PLATE_LETTERS + string.digits) for _ in range(2))

    def cn_bank_card(self):
        return luhn_complete("62" + self.rnd.choice(["2202", "2848", "1700", "2700", "1483"]), self.rnd.choice([16, 19]), self.rnd)

    def credit_card(self):
        n = self.en.credit_card_number()
        if self.rnd.random() < 0.3 and len(n) == 16:
            return " ".join(n[i:i + 4] for i in range(0, 16, 4))
        return n

    def iban_code(self):
        v = self.rnd.choice([self.gb, self.de]).iban()
        if self.rnd.random() < 0.4:
            return " ".join(v[i:i + 4] for i in range(0, len(v), 4))
        return v

    def email_address(self):
        return self.rnd.choice([self.en, self.zh]).email()

    def phone_number(self):
        while True:
            f, region = self.rnd.choice([(self.en, "US"), (self.gb, "GB"), (self.de, "DE")])
            try:
                n = phonenumbers.parse(f.phone_number(), region)
            except phonenumbers.NumberParseException:
                continue
            if n.extension or not phonenumbers.is_valid_number(n):
                continue
            if region == "US" and self.rnd.random() < 0.5:
                return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def ip_address(self):
        return self.en.ipv4() if self.rnd.random() < 0.7 else self.en.ipv6()

    def mac_address(self):
        return self.en.mac_address()

    def us_ssn(self):
        while True:
            s = self.en.ssn()
            a, g, n = s.split("-")
            if a not in ("000", "666") and a[0] != "9" and g != "00" and n != "0000" and len(set(s.replace("-", ""))) > 1:
                return s

    def crypto(self):
        r = self.rnd.random()
        payload = bytes(self.rnd.getrandbits(8) for _ in range(20))
        if r < 0.4:
            return b58check(0, payload)
        if r < 0.7:
            return b58check(5, payload)
        return segwit_address(payload)

    def url(self):
        return self.en.url() + self.rnd.choice(["", "about", "index.html?id=" + self.digits(3), "docs/guide#intro"])

    def api_key(self):
        r = self.rnd.random()
        if r < 0.25:
            return "AKIA" + self.alnum(16, string.ascii_uppercase + string.digits)
        if r < 0.45:
            return "ghp_" + self.alnum(36)
        if r < 0.65:
            return "sk-proj-" + self.alnum(48, string.ascii_letters + string.digits + "_-").strip("-_") + "A"
        if r < 0.8:
            return "xoxb-" + self.digits(11) + "-" + self.digits(12) + "-" + self.alnum(24)
        head = b64url(b'{"alg":"HS256","typ":"JWT"}')
        body = b64url(json.dumps({"sub": self.digits(8), "name": self.en.name()}).encode())
        return f"{head}.{body}.{b64url(bytes(self.rnd.getrandbits(8) for _ in range(32)))}"

    def private_key(self):
        body = base64.b64encode(bytes(self.rnd.getrandbits(8) for _ in range(120))).decode()
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        label = self.rnd.choice(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])
        return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


# (entity type, language, template); {} is the value. Chinese templates put the value right
# next to CJK characters, as real Chinese text does.
TEMPLATES = [
    ("CN_RESIDENT_ID", "zh", "客户身份证号码{}，已完成实名认证。"),
    ("CN_RESIDENT_ID", "zh", "申请人{}于昨日提交材料"),
    ("CN_RESIDENT_ID", "en", "ID card no. {} was checked."),
    ("CN_USCC", "zh", "统一社会信用代码：{}。"),
    ("CN_USCC", "zh", "该企业（{}）已注册"),
    ("CN_MOBILE", "zh", "请拨打{}联系我"),
    ("CN_MOBILE", "zh", "手机：{}，微信同号。"),
    ("CN_MOBILE", "en", "Call me at {} tomorrow."),
    ("CN_LANDLINE", "zh", "办公电话{}，传真同号。"),
    ("CN_LANDLINE", "zh", "总机{}转人工"),
    ("CN_PASSPORT", "zh", "护照号码{}，有效期十年。"),
    ("CN_PASSPORT", "zh", "持证人{}入境"),
    ("CN_LICENSE_PLATE", "zh", "车牌号{}的车辆违章停放。"),
    ("CN_LICENSE_PLATE", "zh", "一辆{}在路口"),
    ("CN_BANK_CARD", "zh", "工资卡{}已绑定。"),
    ("CN_BANK_CARD", "zh", "转账至{}即可"),
    ("CREDIT_CARD", "en", "Charge card {} for the renewal."),
    ("CREDIT_CARD", "en", "Use {} at checkout"),
    ("IBAN_CODE", "en", "Wire the refund to IBAN {} today."),
    ("IBAN_CODE", "zh", "收款账户{}（欧元）"),
    ("EMAIL_ADDRESS", "en", "Reach support at {} any time."),
    ("EMAIL_ADDRESS", "zh", "邮箱{}已验证"),
    ("PHONE_NUMBER", "en", "Our office line is {} (weekdays)."),
    ("PHONE_NUMBER", "en", "Ring {} for bookings"),
    ("IP_ADDRESS", "en", "Login from {} was blocked."),
    ("IP_ADDRESS", "zh", "来自{}的访问"),
    ("MAC_ADDRESS", "en", "Device {} joined the network."),
    ("US_SSN", "en", "SSN {} on file."),
    ("US_SSN", "en", "Her number is {} per the form"),
    ("CRYPTO", "en", "Send 0.5 BTC to {} now."),
    ("CRYPTO", "zh", "收款地址{}请核对"),
    ("URL", "en", "Read more at {} before replying."),
    ("URL", "zh", "详见{} 页面"),
    ("API_KEY", "en", "export TOKEN={}"),
    ("API_KEY", "en", "The leaked credential {} was rotated."),
    ("PRIVATE_KEY", "en", "key file:\n{}\nend of file"),
]

FILLER_ZH = [
    "本次会议讨论了模型训练数据的来源与合规要求。",
    "订单号20240315000123，金额128.50元，预计三天内发货。",
    "版本2.3.1于2024年5月发布，修复了若干问题。",
    "请于2025-01-15前提交材料，逾期不予受理。",
    "温度在15至28摄氏度之间，空气质量良好。",
]
FILLER_EN = [
    "The committee reviewed the dataset documentation and approved the release.",
    "Invoice 2024-0042 totals $1,284.50 and is due within 30 days.",
    "Version 1.2.3 shipped on 2024-05-01 with 17 fixes.",
    "The model was evaluated on 12,000 prompts across 9 languages.",
    "Meeting moved to 10:30 in room 4B; bring the Q3 figures.",
]


def distractor(g):
    """Text that looks like an identifier but is not one (no label)."""
    r = g.rnd.random()
    if r < 0.25:
        rid = g.zh.ssn()
        bad = "0123456789X".replace(rid[-1], "")
        return "编号" + rid[:-1] + g.rnd.choice(bad) + "作废"
    if r < 0.5:
        cc = g.en.credit_card_number()
        return "ref " + cc[:-1] + str((int(cc[-1]) + 1) % 10) + " void"
    if r < 0.75:
        return "build " + ".".join(str(g.rnd.randint(0, 400)) for _ in range(4)) + ".1 done"
    return "单号" + g.digits(20) + "。"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--target-bytes", type=int, default=0, help="stop after this many bytes (overrides --records)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--density", type=float, default=1.0, help="mean entities per record")
    ap.add_argument("--filler", type=int, default=3, help="filler sentences per record")
    ap.add_argument("--prose", action="store_true", help="filler from Faker paragraphs (plain prose) instead of the digit-heavy sentences")
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    written = 0
    n = 0
    with open(a.out, "w", encoding="utf-8") as out, open(a.labels, "w", encoding="utf-8") as lab:
        while (written < a.target_bytes) if a.target_bytes else (n < a.records):
            n += 1
            lang = g.rnd.choice(["zh", "en"])
            parts = []
            labels = []
            k = int(a.density) + (1 if g.rnd.random() < a.density - int(a.density) else 0)
            pieces = [("filler", None)] * a.filler + [("entity", None)] * k
            if g.rnd.random() < 0.2:
                pieces.append(("distractor", None))
            g.rnd.shuffle(pieces)
            text = b""
            for kind, _ in pieces:
                if kind == "filler" and a.prose:
                    piece, value = (g.zh.paragraph() if lang == "zh" else g.en.paragraph()), None
                elif kind == "filler":
                    piece, value = g.rnd.choice(FILLER_ZH if lang == "zh" else FILLER_EN), None
                elif kind == "distractor":
                    piece, value = distractor(g), None
                else:
                    etype, _, tpl = g.rnd.choice(TEMPLATES)
                    value = getattr(g, etype.lower())()
                    piece = tpl
                # Chinese text runs on without spaces, except where two Latin words would meet.
                if text and (lang == "en" or (text[-1:].isascii() and text[-1:].strip() and piece[:1].isascii())):
                    text += b" "
                if value is None:
                    text += piece.encode()
                else:
                    pre, post = tpl.split("{}")
                    start = len(text) + len(pre.encode())
                    text += pre.encode() + value.encode() + post.encode()
                    labels.append({"record": n, "field": "$.text", "start": start, "end": start + len(value.encode()), "entity_type": etype})
            line = json.dumps({"id": n, "lang": lang, "text": text.decode()}, ensure_ascii=False)
            out.write(line + "\n")
            written += len(line.encode()) + 1
            for l in labels:
                lab.write(json.dumps(l) + "\n")


if __name__ == "__main__":
    main()

"""The reference tool's side of the model-signing interop tests (model_signing 1.1.1 API).

Subcommands:
  hash MODEL HASH SHARD IGNORE...   print the manifest the reference tool computes, as JSON
                                    (HASH sha256|blake2|blake3, SHARD 0 for files)
  sign MODEL SIG HASH SHARD KEY [CERT CHAIN...]
                                    sign with an EC key (key mode) or a certificate
  keygen CURVE PRIV PUB             write an unencrypted EC key pair (PKCS#8 / SPKI PEM)
"""
import json
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing import hashing, signing


def config(hash_type, shard, ignore):
    c = hashing.Config()
    if int(shard) > 0:
        c.use_shard_serialization(hashing_algorithm=hash_type, shard_size=int(shard))
    else:
        c.use_file_serialization(hashing_algorithm=hash_type)
    c.set_ignored_paths(paths=[pathlib.Path(p) for p in ignore])
    return c


def main(argv):
    cmd = argv[0]
    if cmd == "hash":
        model, hash_type, shard, *ignore = argv[1:]
        m = config(hash_type, shard, ignore).hash(pathlib.Path(model))
        out = [[rd.identifier, rd.digest.algorithm, rd.digest.digest_hex]
               for rd in m.resource_descriptors()]
        print(json.dumps({"name": m.model_name, "resources": out}))
    elif cmd == "sign":
        model, sig, hash_type, shard, key, *cert = argv[1:]
        c = signing.Config().set_hashing_config(
            config(hash_type, shard, [sig]))
        if cert:
            c.use_certificate_signer(private_key=key, signing_certificate=cert[0],
                                     certificate_chain=cert[1:])
        else:
            c.use_elliptic_key_signer(private_key=key)
        c.sign(pathlib.Path(model), pathlib.Path(sig))
    elif cmd == "keygen":
        curve, priv, pub = argv[1:]
        k = ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}[curve])
        pathlib.Path(priv).write_bytes(k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        pathlib.Path(pub).write_bytes(k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Malformed, unusual and oversized requests to the KV gateway.

Each entry is one request with the status etcd gives it. After every one the
test sends an ordinary put and range to prove the server still serves.
Requests that are merely unusual (int64 as a JSON number, enums as ints,
lowerCamel names) are here too: clients send them and etcd accepts them.
"""

from __future__ import annotations

import base64

from .gateway_diff import Step, b64
from .gateway_requests import KEY_NOT_PROVIDED, NUL, TOO_LARGE

A = b64("bad-input/a")
B = b64("bad-input/b")
C = b64("bad-input/c")
END = b64("bad-input0")
MIB = 1024 * 1024


def raw(path: str, body: bytes | str | None, status: int, method: str = "POST",
        headers: dict[str, str] | None = None) -> Step:
    if isinstance(body, str):
        body = body.encode()
    return Step(path, body, status=status, method=method, headers=headers)


def rng(body: bytes | str, status: int = 400) -> Step:
    return raw("/v3/kv/range", body, status)


def value_of(size: int) -> str:
    return base64.b64encode(b"x" * size).decode()


BAD_INPUT: dict[str, Step] = {
    # Malformed JSON
    "json-bad-object-key": rng("{bad"),
    "json-trailing-comma": rng('{"key":"%s",}' % A),
    "json-truncated": rng('{"key":"%s" ' % A),
    "json-single-quotes": rng("{\"key\":'%s'}" % A),
    "json-leading-zero": rng('{"key":"%s","limit":01}' % A),
    "json-nan": rng('{"key":"%s","limit":NaN}' % A),
    "json-trailing-garbage": rng('{"key":"%s"} trailing' % A, 200),
    "json-two-objects": rng('{"key":"%s"}{"key":"%s"}' % (A, B), 200),
    "json-duplicate-field-last-wins": rng('{"key":"%s","key":"%s"}' % (A, B), 200),
    "json-whitespace-around": rng(' \n {"key":"%s"} \n ' % A, 200),
    "json-escaped-base64": rng('{"key":"\\u0059\\u0051=="}', 200),
    "json-array": rng("[]"),
    "json-string": rng('"x"'),
    "json-number": rng("1"),
    "json-null": rng("null"),
    "json-true": rng("true"),
    "empty-body": rng(b""),
    "empty-object": rng("{}"),
    # Bad base64
    "base64-invalid-char": rng('{"key":"!!!!"}'),
    "base64-missing-padding": rng('{"key":"YQ"}'),
    "base64-url-alphabet": rng('{"key":"-_8="}'),
    "base64-bad-range-end": rng('{"key":"%s","range_end":"*"}' % A),
    "base64-with-newlines": rng('{"key":"YmFk\\nLWlu\\r\\ncHV0L2E="}', 200),
    "base64-non-ascii": rng('{"key":"\u00e9"}'.encode()),
    "base64-bad-value": raw("/v3/kv/put", '{"key":"%s","value":"@"}' % A, 400),
    "base64-bad-in-txn-op": raw("/v3/kv/txn", '{"success":[{"request_put":{"key":"%%"}}]}', 400),
    "base64-bad-in-compare": raw("/v3/kv/txn", '{"compare":[{"key":"%s","value":"^"}]}' % A, 400),
    # Unknown fields are ignored, also nested ones
    "unknown-field-top": rng('{"key":"%s","bogus":1,"nested":{"x":[1,2]}}' % A, 200),
    "unknown-field-txn-op": raw("/v3/kv/txn",
                                '{"success":[{"request_range":{"key":"%s","zzz":true}}]}' % A, 200),
    "unknown-field-compare": raw("/v3/kv/txn", '{"compare":[{"key":"%s","what":"ever"}]}' % A, 200),
    "unknown-op-kind": raw("/v3/kv/txn", '{"success":[{"request_watch":{"key":"%s"}}]}' % A, 400),
    "field-name-case-differs": rng('{"KEY":"%s"}' % A),
    # Wrong JSON types
    "type-key-number": rng('{"key":123}'),
    "type-key-array": rng('{"key":["%s"]}' % A),
    "type-key-object": rng('{"key":{}}'),
    "type-key-null": rng('{"key":null}'),
    "type-limit-bool": rng('{"key":"%s","limit":true}' % A),
    "type-limit-array": rng('{"key":"%s","limit":[1]}' % A),
    "type-limit-object": rng('{"key":"%s","limit":{}}' % A),
    "type-limit-float": rng('{"key":"%s","limit":1.5}' % A),
    "type-limit-exponent": rng('{"key":"%s","limit":1e2}' % A),
    "type-limit-null": rng('{"key":"%s","limit":null}' % A, 200),
    "type-bool-as-string": rng('{"key":"%s","keys_only":"true"}' % A),
    "type-bool-as-number": rng('{"key":"%s","count_only":1}' % A),
    "type-bool-null": rng('{"key":"%s","serializable":null}' % A, 200),
    "type-compare-object": raw("/v3/kv/txn", '{"compare":{}}', 400),
    "type-success-object": raw("/v3/kv/txn", '{"success":{}}', 400),
    "type-success-null": raw("/v3/kv/txn", '{"success":null}', 200),
    "type-op-string": raw("/v3/kv/txn", '{"success":["x"]}', 400),
    "type-op-null-field": raw("/v3/kv/txn", '{"success":[{"request_put":null}]}', 400),
    "type-value-null": raw("/v3/kv/put", '{"key":"%s","value":null}' % A, 200),
    "type-revision-string-word": rng('{"key":"%s","revision":"abc"}' % A),
    # int64 as JSON string or number
    "int64-number": rng('{"key":"%s","range_end":"%s","limit":1}' % (A, END), 200),
    "int64-string": rng('{"key":"%s","range_end":"%s","limit":"1"}' % (A, END), 200),
    "int64-negative-string": rng('{"key":"%s","revision":"-1"}' % A, 200),
    "int64-string-with-space": rng('{"key":"%s","limit":" 1"}' % A, 200),
    "int64-string-plus": rng('{"key":"%s","limit":"+1"}' % A),
    "int64-string-hex": rng('{"key":"%s","limit":"0x10"}' % A),
    "int64-string-float": rng('{"key":"%s","limit":"1.0"}' % A),
    "int64-string-empty": rng('{"key":"%s","limit":""}' % A),
    "int64-overflow-string": rng('{"key":"%s","limit":"9223372036854775808"}' % A),
    "int64-overflow-number": rng('{"key":"%s","limit":9223372036854775808}' % A),
    "int64-max": rng('{"key":"%s","limit":9223372036854775807}' % A, 200),
    "int64-lease-string": raw("/v3/kv/put", '{"key":"%s","lease":"0"}' % A, 200),
    # Enums by name or number
    "enum-name": rng('{"key":"%s","range_end":"%s","sort_order":"DESCEND"}' % (A, END), 200),
    "enum-number": rng('{"key":"%s","range_end":"%s","sort_order":2}' % (A, END), 200),
    "enum-number-string": rng('{"key":"%s","sort_order":"2"}' % A),
    "enum-lowercase-name": rng('{"key":"%s","sort_order":"descend"}' % A),
    "enum-unknown-name": rng('{"key":"%s","sort_target":"SIZE"}' % A),
    "enum-unknown-number-order": rng('{"key":"%s","range_end":"%s","sort_order":7}' % (A, END), 200),
    "enum-compare-numbers": raw("/v3/kv/txn",
                                '{"compare":[{"key":"%s","target":0,"result":1,"version":"0"}]}' % A,
                                200),
    "enum-compare-unknown-numbers": raw(
        "/v3/kv/txn", '{"compare":[{"key":"%s","target":9,"result":9}]}' % A, 200),
    "enum-null": rng('{"key":"%s","sort_order":null}' % A, 200),
    # lowerCamel JSON names are accepted as well as the proto names
    "camel-range": rng('{"key":"%s","rangeEnd":"%s","keysOnly":true,"sortOrder":"DESCEND",'
                       '"sortTarget":"MOD","minModRevision":"1"}' % (A, END), 200),
    "camel-count-only": rng('{"key":"%s","rangeEnd":"%s","countOnly":true}' % (A, END), 200),
    "camel-put": raw("/v3/kv/put", '{"key":"%s","value":"eA==","prevKv":true}' % A, 200),
    "camel-put-ignore-value": raw("/v3/kv/put", '{"key":"%s","ignoreValue":true}' % A, 200),
    "camel-delete": raw("/v3/kv/deleterange",
                        '{"key":"%s","rangeEnd":"%s","prevKv":true}' % (B, NUL), 200),
    "camel-txn": raw("/v3/kv/txn",
                     '{"compare":[{"key":"%s","target":"CREATE","result":"GREATER",'
                     '"createRevision":"0","rangeEnd":"%s"}],'
                     '"success":[{"requestPut":{"key":"%s","value":"eQ=="}},'
                     '{"requestRange":{"key":"%s","rangeEnd":"%s"}},'
                     '{"requestDeleteRange":{"key":"%s","prevKv":true}},'
                     '{"requestTxn":{}}]}' % (A, END, B, A, END, C), 200),
    "camel-and-proto-name-both": rng('{"key":"%s","range_end":"%s","rangeEnd":"%s"}'
                                     % (A, END, A), 200),
    # Sizes: --max-request-bytes (1.5 MiB) applies to writes, the gRPC
    # receive limit (that + 512 KiB) to every request.
    "size-put-just-under-limit": raw("/v3/kv/put",
                                     '{"key":"%s","value":"%s"}' % (A, value_of(MIB * 3 // 2 - 100)),
                                     200),
    "size-put-over-limit": raw("/v3/kv/put",
                               '{"key":"%s","value":"%s"}' % (A, value_of(MIB * 3 // 2)), 400),
    "size-put-over-grpc-limit": raw("/v3/kv/put",
                                    '{"key":"%s","value":"%s"}' % (A, value_of(3 * MIB)), 429),
    "size-txn-over-limit": raw("/v3/kv/txn", '{"success":[{"request_put":{"key":"%s","value":"%s"}}]}'
                               % (A, value_of(MIB * 3 // 2)), 400),
    "size-range-over-write-limit": rng('{"key":"%s"}' % value_of(MIB * 3 // 2 + 10), 200),
    "size-range-over-grpc-limit": rng('{"key":"%s"}' % value_of(2 * MIB + 1), 429),
    # Paths and methods
    "path-unknown-under-v3": raw("/v3/kv/nope", "{}", 404),
    "path-unknown-root": raw("/nope", "{}", 404),
    "path-v3alpha": raw("/v3alpha/kv/range", '{"key":"%s"}' % A, 404),
    "path-trailing-slash": raw("/v3/kv/range/", '{"key":"%s"}' % A, 404),
    "path-upper-case": raw("/V3/kv/range", '{"key":"%s"}' % A, 404),
    "path-v3-root": raw("/v3/", "{}", 404),
    "path-query-string-ignored": raw("/v3/kv/range?key=%s&limit=1" % A, "{}", 400),
    "method-get": raw("/v3/kv/range", None, 405, method="GET"),
    "method-get-with-body": raw("/v3/kv/range", '{"key":"%s"}' % A, 405, method="GET"),
    "method-put": raw("/v3/kv/put", '{"key":"%s"}' % A, 405, method="PUT"),
    "method-delete": raw("/v3/kv/deleterange", '{"key":"%s"}' % A, 405, method="DELETE"),
    "method-patch": raw("/v3/kv/range", '{"key":"%s"}' % A, 405, method="PATCH"),
    "content-type-text": raw("/v3/kv/range", '{"key":"%s"}' % A, 200,
                             headers={"Content-Type": "text/plain"}),
    "content-type-form": raw("/v3/kv/range", '{"key":"%s"}' % A, 200,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}),
    # A null element of a repeated message field makes etcd 3.4.23's gateway
    # close the connection without a response (the server keeps running).
    "null-txn-op": raw("/v3/kv/txn", '{"success":[null]}', None),
    "null-compare": raw("/v3/kv/txn", '{"compare":[null]}', None),
}


# Go's base64 decoder reports the offset of the first bad quantum; it skips
# \r and \n and does not insist on zero trailing bits.
for body in ("YQ=", "YWJjZA", "YWJjZA=", "YQ=a", "YQ===", "YQ==YQ==", "=", "YW Jj", "YR==",
             "YWJ="):
    BAD_INPUT[f"base64-{body}"] = rng('{"key":"%s"}' % body, None)

# Decoding errors, one per kind of field and JSON value.
TYPE_ERRORS = {
    "op-string": ("/v3/kv/txn", '{"success":["x"]}'),
    "op-number": ("/v3/kv/txn", '{"success":[5]}'),
    "op-field-number": ("/v3/kv/txn", '{"success":[{"request_put":5}]}'),
    "op-field-array": ("/v3/kv/txn", '{"success":[{"request_put":[]}]}'),
    "compare-string": ("/v3/kv/txn", '{"compare":"x"}'),
    "compare-target-name": ("/v3/kv/txn", '{"compare":[{"key":"%s","target":"VALUES"}]}' % A),
    "compare-result-name": ("/v3/kv/txn", '{"compare":[{"key":"%s","result":"EQ"}]}' % A),
    "compare-target-bool": ("/v3/kv/txn", '{"compare":[{"key":"%s","target":true}]}' % A),
    "compare-version-bool": ("/v3/kv/txn", '{"compare":[{"key":"%s","version":true}]}' % A),
    "enum-float": ("/v3/kv/range", '{"key":"%s","sort_order":2.0}' % A),
    "enum-negative": ("/v3/kv/range", '{"key":"%s","sort_order":-1}' % A),
    "enum-bool": ("/v3/kv/range", '{"key":"%s","sort_order":true}' % A),
    "enum-html-chars": ("/v3/kv/range", '{"key":"%s","sort_order":"<b>&"}' % A),
    "enum-over-int32": ("/v3/kv/range", '{"key":"%s","sort_order":2147483648}' % A),
    "enum-int32-max": ("/v3/kv/range", '{"key":"%s","sort_order":2147483647}' % A),
    "int64-string-two-numbers": ("/v3/kv/range", '{"key":"%s","limit":"1 2"}' % A),
    "int64-string-escaped-quotes": ("/v3/kv/range", '{"key":"%s","limit":"\\"1\\""}' % A),
    "int64-string-true": ("/v3/kv/range", '{"key":"%s","limit":"true"}' % A),
    "int64-string-null": ("/v3/kv/range", '{"key":"%s","limit":"null"}' % A),
    "int64-string-array": ("/v3/kv/range", '{"key":"%s","limit":"[1]"}' % A),
    "int64-string-minus": ("/v3/kv/range", '{"key":"%s","limit":"-"}' % A),
    "int64-string-minus-zero": ("/v3/kv/range", '{"key":"%s","limit":"-0"}' % A),
    "int64-minus-zero": ("/v3/kv/range", '{"key":"%s","limit":-0}' % A),
    "int64-exponent-upper": ("/v3/kv/range", '{"key":"%s","limit":1E2}' % A),
    "int64-string-max": ("/v3/kv/range", '{"key":"%s","limit":"9223372036854775807"}' % A),
    "int64-min": ("/v3/kv/range", '{"key":"%s","limit":-9223372036854775808}' % A),
    "int64-under-min": ("/v3/kv/range", '{"key":"%s","limit":"-9223372036854775809"}' % A),
    "bool-string-1": ("/v3/kv/range", '{"key":"%s","keys_only":"1"}' % A),
    "bool-zero": ("/v3/kv/range", '{"key":"%s","keys_only":0}' % A),
    "bytes-bool": ("/v3/kv/range", '{"key":true}'),
    "bytes-number-range-end": ("/v3/kv/range", '{"key":"%s","range_end":5}' % A),
    "compaction-revision-word": ("/v3/kv/compaction", '{"revision":"x"}'),
    "compaction-physical-string": ("/v3/kv/compaction", '{"physical":"yes"}'),
    "put-value-number": ("/v3/kv/put", '{"key":"%s","value":5}' % A),
    "put-lease-word": ("/v3/kv/put", '{"key":"%s","lease":"abc"}' % A),
    # With several bad fields, the one declared first in the proto is reported.
    "order-key-before-limit": ("/v3/kv/range", '{"limit":true,"key":5}'),
    "order-limit-before-revision": ("/v3/kv/range", '{"revision":true,"limit":"x"}'),
    "order-limit-before-sort": ("/v3/kv/range", '{"sort_order":"X","limit":true}'),
}
for name, (path, body) in TYPE_ERRORS.items():
    BAD_INPUT[f"type-{name}"] = raw(path, body, None)

# Syntax errors: Go's scanner messages.
for i, body in enumerate(('{"key":"%s",' % A, '{"key"', "{", "[", " ", "x",
                          '{"key":"%s\x01"}' % A, '{"key":"%s" "x":1}' % A, '{"key" "%s"}' % A,
                          '{"key":"%s"]' % A, '{"a":{"b":[1,2,{"c":nul}]}}', '{"a":"\\x"}',
                          '{"key":"%s","a":tru}' % A, '{"key":"%s","a":1.}' % A,
                          '{"key":"%s","a":-}' % A, '{"key":"%s","a":1e}' % A,
                          '{"key":"%s","a":.5}' % A)):
    BAD_INPUT[f"syntax-{i}"] = rng(body, None)

# Strings that are not valid UTF-8 or hold lone surrogates are accepted.
BAD_INPUT["utf8-invalid-in-unknown-field"] = rng(b'{"key":"%s","a":"\xff"}' % A.encode(), 200)
BAD_INPUT["utf8-lone-surrogate"] = rng('{"key":"%s","a":"\\ud800"}' % A, 200)

# The error text of these is checked on the reference too: they are the
# etcdserver errors the brief names.
BAD_INPUT["size-put-over-limit"].error = TOO_LARGE
BAD_INPUT["size-txn-over-limit"].error = TOO_LARGE
BAD_INPUT["empty-object"].error = KEY_NOT_PROVIDED
BAD_INPUT["empty-body"].error = KEY_NOT_PROVIDED

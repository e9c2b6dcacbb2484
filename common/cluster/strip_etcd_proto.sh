#!/bin/sh
# strip_etcd_proto.sh IN OUT: etcd's .proto with its Go-only and gateway-only options removed.
# Drops the gogoproto and google/api/annotations imports, every `option (gogoproto.…)` line
# and each `option (google.api.http) = { … };` block (they change no wire format), and
# flattens `import "etcd/…/x.proto"` to `import "x.proto"` (we compile them side by side).
set -eu
sed -e '/^import "gogoproto\/gogo.proto";/d' \
    -e '/^import "google\/api\/annotations.proto";/d' \
    -e '/^option (gogoproto\./d' \
    -e '/option (google.api.http) = {/,/};/d' \
    -e 's|^import "etcd/.*/\([^/]*\.proto\)";|import "\1";|' \
    "$1" >"$2"

# Turns tools/bench/transport.sh's results.tsv into the report: the median round per server and case, ratios
# to grpc-js, server CPU per message, and issue 8's targets (hub >= 5x grpc-js; a cached token adds <= 20 us of
# server CPU per call over the plain echo). Usage: awk -F'\t' -v bidi=MESSAGES_PER_STREAM -f report.awk results.tsv
NR == 1 { next }
{
    key = $2 SUBSEP $3
    n[key]++
    rate[key, n[key]] = $4
    row[key, $4] = $0
}
function median(key,    i, j, t, a, m) {
    m = n[key]
    for (i = 1; i <= m; i++) a[i] = rate[key, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((m + 1) / 2)]
}
END {
    split("grpc-js plain hub", names, " ")
    split("unary bidi", kinds, " ")
    printf "| %-7s | %-5s | %12s | %12s | %10s | %17s |\n", "server", "case", "requests/s", "messages/s", "vs grpc-js", "server CPU us/msg"
    printf "|---------|-------|-------------:|-------------:|-----------:|------------------:|\n"
    for (k = 1; k <= 2; k++) {
        kind = kinds[k]
        per = kind == "bidi" ? bidi : 1
        peer = median("grpc-js" SUBSEP kind)
        for (s = 1; s <= 3; s++) {
            key = names[s] SUBSEP kind
            r = median(key)
            split(row[key, r], f, "\t")
            messages = f[5] * per
            cpu_per_message[kind, names[s]] = messages > 0 ? f[6] / messages : 0
            cpu = messages > 0 ? sprintf("%.2f", f[6] * 1e6 / messages) : "-"
            printf "| %-7s | %-5s | %12.0f | %12.0f | %9.2fx | %17s |\n", names[s], kind, r, r * per, r / peer, cpu
            ratio_peer[kind, names[s]] = r / peer
        }
    }
    printf "\nTargets (issue 8):\n"
    for (k = 1; k <= 2; k++) {
        kind = kinds[k]; p = ratio_peer[kind, "hub"]
        printf "  hub %-5s >= 5x grpc-js: %.2fx %s", kind, p, (p >= 5 ? "MET" : "MISSED")
        if (cpu_per_message[kind, "hub"] > 0)
            printf " (by server CPU per message: %.1fx)", cpu_per_message[kind, "grpc-js"] / cpu_per_message[kind, "hub"]
        printf "\n"
    }
    # Per call: a unary call is one message; the authentication and authorization cost is paid once per call.
    added = (cpu_per_message["unary", "hub"] - cpu_per_message["unary", "plain"]) * 1e6
    printf "  server CPU a cached token adds per unary call (hub - plain): %.1f us %s (target <= 20 us)\n", added, (added <= 20 ? "MET" : "MISSED")
}

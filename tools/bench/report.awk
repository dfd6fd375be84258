# Turns tools/bench/transport.sh's results.tsv into the report: the median round per server and
# case, ratios to grpc-js and to bare Kestrel, server CPU and allocations per message, and the
# targets of issue 2. Usage: awk -F'\t' -v bidi=MESSAGES_PER_STREAM -f report.awk results.tsv
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
    split("grpc-js hlmhub bare", names, " ")
    split("unary bidi", kinds, " ")
    printf "| %-7s | %-5s | %12s | %12s | %10s | %10s | %17s | %12s |\n", "server", "case", "requests/s", "messages/s", "vs grpc-js", "vs bare", "server CPU us/msg", "alloc B/msg"
    printf "|---------|-------|-------------:|-------------:|-----------:|-----------:|------------------:|-------------:|\n"
    for (k = 1; k <= 2; k++) {
        kind = kinds[k]
        per = kind == "bidi" ? bidi : 1
        peer = median("grpc-js" SUBSEP kind); ceiling = median("bare" SUBSEP kind)
        for (s = 1; s <= 3; s++) {
            key = names[s] SUBSEP kind
            r = median(key)
            split(row[key, r], f, "\t")
            messages = f[5] * per
            cpu = messages > 0 ? sprintf("%.2f", f[6] * 1e6 / messages) : "-"
            cpu_per_message[kind, names[s]] = messages > 0 ? f[6] / messages : 0
            alloc = (f[7] != "" && messages > 0) ? sprintf("%.0f", f[7] / messages) : "-"
            printf "| %-7s | %-5s | %12.0f | %12.0f | %9.2fx | %9.0f%% | %17s | %12s |\n", names[s], kind, r, r * per, r / peer, 100 * r / ceiling, cpu, alloc
            ratio_peer[kind, names[s]] = r / peer; ratio_bare[kind, names[s]] = r / ceiling
        }
    }
    printf "\nTargets (issue 2):\n"
    verdict("unary", 5, 0.60); verdict("bidi", 5, 0.40)
}
function verdict(kind, peer_target, bare_target,    p, b) {
    p = ratio_peer[kind, "hlmhub"]; b = ratio_bare[kind, "hlmhub"]
    printf "  %-5s >= %dx grpc-js: %.2fx %s; >= %d%% of bare: %.0f%% %s\n", kind, peer_target, p, (p >= peer_target ? "MET" : "MISSED"), bare_target * 100, b * 100, (b >= bare_target ? "MET" : "MISSED")
    # On a busy machine the throughput ratios follow the scheduler; CPU per message much less so.
    if (cpu_per_message[kind, "hlmhub"] > 0)
        printf "        by server CPU per message: %.1fx grpc-js, %.0f%% of bare\n", cpu_per_message[kind, "grpc-js"] / cpu_per_message[kind, "hlmhub"], 100 * cpu_per_message[kind, "bare"] / cpu_per_message[kind, "hlmhub"]
}

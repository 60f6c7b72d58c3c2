package io.xenops.driver.xen;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Registers of a domain's first vCPU after it stopped, read for a crash's detail: where a guest that
 * died without a word (a triple fault) was. Only the registers that say where: instruction, stack,
 * last page-fault address, and the descriptor tables an exception is delivered through.
 *
 * @param registers name → value, in the order {@link #NAMES} lists them; the names found only
 */
public record CpuState(Map<String, Long> registers) {
    static final java.util.List<String> NAMES = java.util.List.of("rip", "rsp", "cr2", "idtr", "gdtr", "event");

    // xen-hvmctx's CPU record (Xen 4.17): "rip 0x0000000000101234"; the tables "idtr  (  00000000 +  0000)" or
    // "gdtr  (  0x00104f70 +  0x0017)" (zero without 0x); "event 0x80000306": the event being injected when
    // the vCPU stopped (valid bit, type, vector: 0x306 is exception 6, #UD).
    private static final Pattern REGISTER =
            Pattern.compile("\\b(rip|rsp|cr2|idtr|gdtr|event)\\b\\s*:?\\s*\\(?\\s*(?:0x)?([0-9a-fA-F]{1,16})\\b");

    public CpuState {
        registers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(registers));
    }

    /**
     * The first CPU record of {@code xen-hvmctx}'s output (vCPU 0); empty when it has none of the
     * registers. A later record (another vCPU) never overrides the first's values.
     */
    static Optional<CpuState> parseHvmContext(String text) {
        int cpu = text.indexOf("CPU:");
        if (cpu < 0) return Optional.empty();
        int next = text.indexOf("CPU:", cpu + 4);
        String record = next < 0 ? text.substring(cpu) : text.substring(cpu, next);
        Map<String, Long> found = new java.util.HashMap<>();
        Matcher m = REGISTER.matcher(record);
        while (m.find()) found.putIfAbsent(m.group(1), Long.parseUnsignedLong(m.group(2), 16));
        if (found.isEmpty()) return Optional.empty();
        Map<String, Long> ordered = new LinkedHashMap<>();
        for (String n : NAMES) if (found.containsKey(n)) ordered.put(n, found.get(n));
        return Optional.of(new CpuState(ordered));
    }

    /** "rip 0x101234, rsp 0x1ff000, ..." */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        registers.forEach((k, v) -> {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(k).append(" 0x").append(Long.toHexString(v));
        });
        return sb.toString();
    }
}

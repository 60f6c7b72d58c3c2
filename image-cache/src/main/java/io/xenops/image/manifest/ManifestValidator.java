package io.xenops.image.manifest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.Manifest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of api-spec/schemas/image-manifest.schema.json, checked by hand so the daemon does not ship a
 * JSON Schema engine. ManifestSchemaAgreementTest runs a corpus through both and asserts the same verdicts.
 * Unlike a schema engine it reports every violation in words an operator can act on.
 */
public final class ManifestValidator {
    /** A manifest is a few hundred bytes; anything far larger is not one. */
    public static final int MAX_BYTES = 64 * 1024;
    private static final Set<String> FIELDS =
            Set.of("name", "version", "memory_mib", "vcpus", "boot_modes", "cmdline", "readiness", "annotations");
    private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,62}$");
    private static final Pattern VERSION = Pattern.compile("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$");
    private static final Pattern PRINTABLE = Pattern.compile("^[\\x20-\\x7e]*$");
    private static final Pattern ANNOTATION_KEY = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$");
    private static final Set<String> BOOT_MODES = Set.of("pvh", "pv");
    private static final Set<String> READINESS = Set.of("console", "none");

    private final ObjectMapper json;

    public ManifestValidator() {
        JsonMapper.Builder b = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        this.json = b.build();
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build());
    }

    /** Every rule the document breaks, empty when it is a valid manifest. */
    public List<String> violations(JsonNode doc) {
        List<String> v = new ArrayList<>();
        if (doc == null || !doc.isObject()) {
            v.add("a manifest must be a JSON object");
            return v;
        }
        for (Iterator<String> it = doc.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) v.add("unknown field '" + printable(f) + "'");
        }
        for (String req : List.of("name", "memory_mib", "vcpus")) {
            if (!doc.has(req)) v.add("'" + req + "' is required");
        }
        string(doc, "name", NAME, Integer.MAX_VALUE, v, "lower-case letters, digits, '.', '_', '-', at most 63, not starting with '.'");
        string(doc, "version", VERSION, Integer.MAX_VALUE, v, "an OCI tag: letters, digits, '.', '_', '-', at most 128");
        integer(doc, "memory_mib", 1, 65536, v);
        integer(doc, "vcpus", 1, 128, v);
        if (doc.has("boot_modes")) {
            JsonNode modes = doc.get("boot_modes");
            if (!modes.isArray()) {
                v.add("'boot_modes' must be an array");
            } else {
                if (modes.isEmpty()) v.add("'boot_modes' must not be empty (leave it out to have it read from the ELF)");
                Set<String> seen = new HashSet<>();
                for (JsonNode m : modes) {
                    if (!m.isTextual() || !BOOT_MODES.contains(m.asText())) {
                        v.add("'boot_modes' may hold only \"pvh\" and \"pv\", not " + printable(m.toString()));
                    } else if (!seen.add(m.asText())) {
                        v.add("'boot_modes' lists \"" + m.asText() + "\" twice");
                    }
                }
                // uniqueItems also forbids repeated non-string items; the enum rule already flags those.
            }
        }
        string(doc, "cmdline", PRINTABLE, 1024, v, "printable ASCII, at most 1024 characters");
        if (doc.has("readiness") && (!doc.get("readiness").isTextual() || !READINESS.contains(doc.get("readiness").asText()))) {
            v.add("'readiness' must be \"console\" or \"none\"");
        }
        if (doc.has("annotations")) {
            JsonNode a = doc.get("annotations");
            if (!a.isObject()) {
                v.add("'annotations' must be an object of strings");
            } else {
                if (a.size() > 64) v.add("'annotations' has " + a.size() + " entries, at most 64");
                for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!ANNOTATION_KEY.matcher(e.getKey()).matches()) {
                        v.add("annotation key '" + printable(e.getKey()) + "' is not allowed");
                    }
                    if (!e.getValue().isTextual()) v.add("annotation '" + printable(e.getKey()) + "' must be a string");
                    else if (codePoints(e.getValue().asText()) > 4096) v.add("annotation '" + printable(e.getKey()) + "' is over 4096 characters");
                }
            }
        }
        return v;
    }

    /** Parses and validates; {@code what} names the document in the error. */
    public Manifest parse(byte[] bytes, String what) {
        if (bytes.length > MAX_BYTES) {
            throw new ImageException(Reason.INVALID, what + ": manifest is " + bytes.length + " bytes, at most " + MAX_BYTES);
        }
        JsonNode doc;
        try {
            doc = json.readTree(bytes);
        } catch (java.io.IOException e) {
            throw new ImageException(Reason.INVALID, what + ": not valid JSON: " + firstLine(e.getMessage()), e);
        }
        List<String> v = violations(doc);
        if (!v.isEmpty()) throw new ImageException(Reason.INVALID, what + ": invalid manifest: " + String.join("; ", v));
        try {
            return json.treeToValue(doc, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new ImageException(Reason.INVALID, what + ": " + firstLine(e.getMessage()), e);
        }
    }

    /** The stored form: fields in schema order, annotation keys sorted, no nulls. Equal manifests, equal bytes. */
    public byte[] canonical(Manifest m) {
        try {
            return json.writeValueAsBytes(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a Manifest always serialises", e);
        }
    }

    private static void string(JsonNode doc, String field, Pattern p, int maxLen, List<String> v, String rule) {
        if (!doc.has(field)) return;
        JsonNode n = doc.get(field);
        if (!n.isTextual()) v.add("'" + field + "' must be a string");
        else if (codePoints(n.asText()) > maxLen || !p.matcher(n.asText()).matches()) {
            v.add("'" + field + "' " + printable(n.toString()) + " is not allowed: " + rule);
        }
    }

    /** JSON Schema's "integer" is any number with no fraction, so 4.0 counts and 4.5 does not. */
    private static void integer(JsonNode doc, String field, long min, long max, List<String> v) {
        if (!doc.has(field)) return;
        JsonNode n = doc.get(field);
        boolean integral = n.isIntegralNumber() || (n.isNumber() && n.decimalValue().stripTrailingZeros().scale() <= 0);
        if (!integral) v.add("'" + field + "' must be an integer");
        else if (n.decimalValue().compareTo(java.math.BigDecimal.valueOf(min)) < 0
                || n.decimalValue().compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
            v.add("'" + field + "' must be between " + min + " and " + max + ", not " + n.asText());
        }
    }

    private static int codePoints(String s) { return s.codePointCount(0, s.length()); }

    private static String printable(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

package io.xenops.image.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.xenops.image.ImageException;
import io.xenops.image.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The hand-written rules and the published JSON Schema must give the same verdict on every document. */
class ManifestSchemaAgreementTest {
    static final Path SCHEMA = Path.of("..", "api-spec", "schemas", "image-manifest.schema.json");
    private final ObjectMapper json = new ObjectMapper();
    private final ManifestValidator validator = new ManifestValidator();

    private JsonSchema schema() throws IOException {
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                .getSchema(Files.readString(SCHEMA));
    }

    static final String BASE = "\"name\":\"hello\",\"memory_mib\":4,\"vcpus\":1";

    static List<String> valid() {
        return List.of(
                "{" + BASE + "}",
                "{\"name\":\"hello\",\"version\":\"0.1.0\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\",\"pv\"],\"cmdline\":\"\",\"readiness\":\"console\"}",
                "{" + BASE + ",\"boot_modes\":[\"pv\"]}",
                "{" + BASE + ",\"readiness\":\"none\"}",
                "{" + BASE + ",\"cmdline\":\"console=hvc0 quiet ~!@#$%^&*()\"}",
                "{" + BASE + ",\"version\":\"v1.2.3-rc_4\"}",
                "{" + BASE + ",\"version\":\"" + "a".repeat(128) + "\"}",
                "{\"name\":\"" + "a".repeat(63) + "\",\"memory_mib\":65536,\"vcpus\":128}",
                "{\"name\":\"a.b_c-d\",\"memory_mib\":1,\"vcpus\":1}",
                "{\"name\":\"0\",\"memory_mib\":4.0,\"vcpus\":1}",
                "{" + BASE + ",\"cmdline\":\"" + "x".repeat(1024) + "\"}",
                "{" + BASE + ",\"annotations\":{\"org.opencontainers.image.source\":\"https://example.invalid/x\"}}",
                "{" + BASE + ",\"annotations\":{}}");
    }

    static List<String> invalid() {
        return List.of(
                "[]", "\"hello\"", "{}",
                "{\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\"hello\",\"vcpus\":1}",
                "{\"name\":\"hello\",\"memory_mib\":4}",
                "{\"name\":\"Hello\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\".hidden\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\"../etc\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\"a/b\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\"\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":\"" + "a".repeat(64) + "\",\"memory_mib\":4,\"vcpus\":1}",
                "{\"name\":7,\"memory_mib\":4,\"vcpus\":1}",
                "{" + BASE + ",\"version\":\"\"}",
                "{" + BASE + ",\"version\":\"-x\"}",
                "{" + BASE + ",\"version\":\"a:b\"}",
                "{" + BASE + ",\"version\":\"" + "a".repeat(129) + "\"}",
                "{" + BASE + ",\"version\":1}",
                "{\"name\":\"hello\",\"memory_mib\":0,\"vcpus\":1}",
                "{\"name\":\"hello\",\"memory_mib\":65537,\"vcpus\":1}",
                "{\"name\":\"hello\",\"memory_mib\":4.5,\"vcpus\":1}",
                "{\"name\":\"hello\",\"memory_mib\":\"4\",\"vcpus\":1}",
                "{\"name\":\"hello\",\"memory_mib\":4,\"vcpus\":0}",
                "{\"name\":\"hello\",\"memory_mib\":4,\"vcpus\":129}",
                "{" + BASE + ",\"boot_modes\":[]}",
                "{" + BASE + ",\"boot_modes\":[\"hvm\"]}",
                "{" + BASE + ",\"boot_modes\":[\"PVH\"]}",
                "{" + BASE + ",\"boot_modes\":[\"pvh\",\"pvh\"]}",
                "{" + BASE + ",\"boot_modes\":\"pvh\"}",
                "{" + BASE + ",\"boot_modes\":[1]}",
                "{" + BASE + ",\"cmdline\":\"tab\\there\"}",
                "{" + BASE + ",\"cmdline\":\"caf\\u00e9\"}",
                "{" + BASE + ",\"cmdline\":\"" + "x".repeat(1025) + "\"}",
                "{" + BASE + ",\"cmdline\":null}",
                "{" + BASE + ",\"readiness\":\"serial\"}",
                "{" + BASE + ",\"readiness\":true}",
                "{" + BASE + ",\"kernel\":\"/etc/passwd\"}",
                "{" + BASE + ",\"annotations\":[]}",
                "{" + BASE + ",\"annotations\":{\"k\":1}}",
                "{" + BASE + ",\"annotations\":{\"bad key\":\"v\"}}",
                "{" + BASE + ",\"annotations\":{\"k\":\"" + "v".repeat(4097) + "\"}}");
    }

    @Test
    void theSchemaFileIsWhereTheApiModulePublishesIt() {
        assertThat(SCHEMA).isRegularFile();
    }

    @Test
    void validDocumentsPassBoth() throws IOException {
        JsonSchema schema = schema();
        for (String doc : valid()) {
            JsonNode node = json.readTree(doc);
            Set<ValidationMessage> fromSchema = schema.validate(node);
            assertThat(fromSchema).as("schema on " + doc).isEmpty();
            assertThat(validator.violations(node)).as("validator on " + doc).isEmpty();
            Manifest m = validator.parse(doc.getBytes(StandardCharsets.UTF_8), "doc");
            assertThat(m.name()).isEqualTo(node.get("name").asText());
        }
    }

    @Test
    void invalidDocumentsFailBoth() throws IOException {
        JsonSchema schema = schema();
        List<String> disagreements = new ArrayList<>();
        for (String doc : invalid()) {
            JsonNode node = json.readTree(doc);
            boolean schemaRejects = !schema.validate(node).isEmpty();
            boolean validatorRejects = !validator.violations(node).isEmpty();
            if (!schemaRejects || !validatorRejects) disagreements.add(doc + " schema=" + schemaRejects + " validator=" + validatorRejects);
            assertThatThrownBy(() -> validator.parse(doc.getBytes(StandardCharsets.UTF_8), "doc"))
                    .isInstanceOf(ImageException.class).hasMessageStartingWith("doc: ");
        }
        assertThat(disagreements).isEmpty();
    }

    @Test
    void errorsNameEveryBrokenRule() {
        assertThatThrownBy(() -> validator.parse(
                "{\"name\":\"Bad\",\"memory_mib\":0,\"vcpus\":1,\"boot_modes\":[\"hvm\"],\"extra\":1}".getBytes(StandardCharsets.UTF_8), "m.json"))
                .hasMessageContaining("unknown field 'extra'")
                .hasMessageContaining("'name' \"Bad\" is not allowed")
                .hasMessageContaining("'memory_mib' must be between 1 and 65536, not 0")
                .hasMessageContaining("'boot_modes' may hold only \"pvh\" and \"pv\"");
        assertThatThrownBy(() -> validator.parse("{\"name\":\"a\",\"name\":\"b\",\"memory_mib\":1,\"vcpus\":1}"
                .getBytes(StandardCharsets.UTF_8), "dup.json")).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> validator.parse(new byte[ManifestValidator.MAX_BYTES + 1], "huge.json"))
                .hasMessageContaining("at most " + ManifestValidator.MAX_BYTES);
    }

    @Test
    void canonicalFormIsStable() {
        Manifest m = validator.parse(("{\"vcpus\":1,\"annotations\":{\"b\":\"2\",\"a\":\"1\"},\"memory_mib\":4,\"name\":\"x\"}")
                .getBytes(StandardCharsets.UTF_8), "m");
        String canonical = new String(validator.canonical(m), StandardCharsets.UTF_8);
        assertThat(canonical).isEqualTo("{\"name\":\"x\",\"memory_mib\":4,\"vcpus\":1,\"annotations\":{\"a\":\"1\",\"b\":\"2\"}}");
        assertThat(validator.parse(canonical.getBytes(StandardCharsets.UTF_8), "again")).isEqualTo(m);
    }
}

package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DomainStoreTest {
    @TempDir
    Path state;

    private DomainRecord record(String id) {
        return new DomainRecord(DomainRecord.VERSION, id, "hello", "/k.elf", 8, 1, "xenops.id=" + id, "tcg", "max", 1L, null);
    }

    @Test
    void createsReadsRewritesAndRemoves() throws Exception {
        DomainStore s = new DomainStore(state.resolve("domains"), new ObjectMapper());
        s.create(record("a"));
        assertThat(s.read("a")).contains(record("a"));
        assertThatThrownBy(() -> s.create(record("a"))).isInstanceOf(FileAlreadyExistsException.class);
        s.write(record("a").withPid(1234), false);
        assertThat(s.read("a").orElseThrow().pid()).isEqualTo(1234L);
        assertThat(s.dir("a").resolve("domain.json.tmp")).doesNotExist();
        Files.writeString(s.dir("a").resolve("console.log"), "x");
        Files.createDirectories(s.dir("a").resolve("sub"));
        assertThat(s.ids()).containsExactly("a");
        s.remove("a");
        assertThat(s.dir("a")).doesNotExist();
        assertThat(s.ids()).isEmpty();
        s.remove("a"); // idempotent
    }

    @Test
    void anUnreadableRecordReadsAsMissing() throws Exception {
        DomainStore s = new DomainStore(state.resolve("domains"), new ObjectMapper());
        Files.createDirectories(s.dir("b"));
        assertThat(s.read("b")).isEmpty();
        Files.writeString(s.dir("b").resolve("domain.json"), "{not json");
        assertThat(s.read("b")).isEmpty();
    }

    @Test
    void toleratesUnknownFieldsFromANewerVersion() throws Exception {
        DomainStore s = new DomainStore(state.resolve("domains"), new ObjectMapper());
        Files.createDirectories(s.dir("c"));
        Files.writeString(s.dir("c").resolve("domain.json"), "{\"version\":2,\"id\":\"c\",\"image\":\"i\",\"pid\":7,\"future\":true}");
        assertThat(s.read("c").orElseThrow().pid()).isEqualTo(7L);
    }
}

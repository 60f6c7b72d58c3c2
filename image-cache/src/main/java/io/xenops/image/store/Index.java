package io.xenops.image.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The store's index: every reference ({@code name:tag}) and the blobs it names. It is the only mutable
 * shared state besides the blobs themselves, and it is only ever replaced whole, by rename.
 */
record Index(@JsonProperty("version") int version, @JsonProperty("images") Map<String, Entry> images) {
    static final int VERSION = 1;
    static final Index EMPTY = new Index(VERSION, Map.of());

    Index {
        images = new TreeMap<>(images == null ? Map.of() : images);
    }

    /**
     * @param kernel     digest of the kernel ELF blob
     * @param kernelSize its bytes
     * @param config     digest of the canonical manifest blob
     * @param configSize its bytes
     * @param created    when this reference was written (ISO-8601)
     * @param source     where it came from: a file, a bundle directory or a registry reference (for inspect)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Entry(@JsonProperty("kernel") String kernel, @JsonProperty("kernel_size") long kernelSize,
                 @JsonProperty("config") String config, @JsonProperty("config_size") long configSize,
                 @JsonProperty("created") String created,
                 @JsonProperty("source") String source) {
        Entry {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(config, "config");
        }

        boolean sameContent(Entry o) { return o != null && kernel.equals(o.kernel) && config.equals(o.config); }
    }

    Index with(String ref, Entry e) {
        Map<String, Entry> m = new TreeMap<>(images);
        m.put(ref, e);
        return new Index(VERSION, m);
    }

    Index without(String ref) {
        Map<String, Entry> m = new TreeMap<>(images);
        m.remove(ref);
        return new Index(VERSION, m);
    }

    static final class Codec {
        private final ObjectMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

        Index read(byte[] bytes, String where) {
            try {
                Index i = json.readValue(bytes, Index.class);
                if (i.version() != VERSION) {
                    throw new ImageException(Reason.STORAGE, where + ": index version " + i.version()
                            + " is not supported (this build reads " + VERSION + ")");
                }
                return i;
            } catch (IOException e) {
                throw new ImageException(Reason.STORAGE, where + ": index is unreadable: " + e.getMessage(), e);
            }
        }

        byte[] write(Index i) {
            try {
                return json.writeValueAsBytes(i);
            } catch (IOException e) {
                throw new IllegalStateException("an Index always serialises", e);
            }
        }
    }
}

package io.xenops.xenstore.wire;

import java.util.List;

/**
 * One DIRECTORY_PART reply.
 *
 * @param generation the node's generation count; equal counts across chunks mean the list did not change
 * @param children   the leaf names in this chunk
 * @param last       true when this chunk ends the list (the server appended an empty string)
 */
public record DirectoryChunk(long generation, List<String> children, boolean last) {

    public DirectoryChunk {
        children = List.copyOf(children);
    }

    /** Bytes of the children list this chunk covers: the offset to ask for next. */
    public long byteLength() {
        long n = 0;
        for (String c : children) {
            n += Payloads.utf8Length(c) + 1;
        }
        return n;
    }
}

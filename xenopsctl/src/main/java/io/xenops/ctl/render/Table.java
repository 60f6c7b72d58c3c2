package io.xenops.ctl.render;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Aligned columns separated by two spaces, like `ps` or `kubectl get`: numbers right-aligned, the
 * last column never padded, so lines carry no trailing blanks and `awk '{print $1}'` works.
 */
public final class Table {
    private final String[] headers;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();
    private boolean header = true;

    public Table(String... headers) {
        this.headers = headers.clone();
        this.right = new boolean[headers.length];
    }

    /** Right-aligns the named columns (counts and durations). */
    public Table alignRight(int... columns) {
        for (int c : columns) {
            right[c] = true;
        }
        return this;
    }

    /** For key/value listings, where a header line would only repeat the obvious. */
    public Table noHeader() {
        header = false;
        return this;
    }

    public Table row(String... cells) {
        if (cells.length != headers.length) {
            throw new IllegalArgumentException("expected " + headers.length + " cells, got " + cells.length);
        }
        String[] safe = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            safe[i] = cells[i] == null || cells[i].isEmpty() ? "-" : Text.cell(cells[i]);
        }
        rows.add(safe);
        return this;
    }

    public void print(PrintWriter out) {
        int[] width = new int[headers.length];
        for (int i = 0; i < headers.length && header; i++) {
            width[i] = headers[i].length();
        }
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        if (header) {
            line(out, headers, width);
        }
        for (String[] r : rows) {
            line(out, r, width);
        }
        out.flush();
    }

    private void line(PrintWriter out, String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            int pad = width[i] - cells[i].length();
            if (right[i]) {
                sb.repeat(' ', pad).append(cells[i]);
            } else {
                sb.append(cells[i]);
                if (!last) {
                    sb.repeat(' ', pad);
                }
            }
            if (!last) {
                sb.append("  ");
            }
        }
        out.println(sb);
    }
}

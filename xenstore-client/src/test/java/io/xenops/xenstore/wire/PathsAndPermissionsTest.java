package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathsAndPermissionsTest {

    private final Limits limits = Limits.standard();

    @Test
    void validPaths() {
        for (String p : List.of("/", "/a", "/local/domain/5/device/vif/0", "relative/path", "/A-Z_a@z09")) {
            assertThat(Paths.problem(p, limits)).as(p).isNull();
        }
    }

    @Test
    void invalidPathsSayWhy() {
        assertThat(Paths.problem("", limits)).isEqualTo("empty path");
        assertThat(Paths.problem("/a/", limits)).isEqualTo("trailing slash");
        assertThat(Paths.problem("/a//b", limits)).isEqualTo("doubled slash");
        assertThat(Paths.problem("/a b", limits)).contains("invalid character ' '");
        assertThat(Paths.problem("/a\0b", limits)).contains("U+0000");
        assertThat(Paths.problem("/" + "a".repeat(3071), limits)).isNull();
        assertThat(Paths.problem("/" + "a".repeat(3072), limits)).contains("3073").contains("3072");
        assertThat(Paths.problem("a".repeat(2048), limits)).isNull();
        assertThat(Paths.problem("a".repeat(2049), limits)).contains("2048");
        assertThatThrownBy(() -> Paths.check("/a//b", limits)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("doubled slash");
        assertThat(Paths.checkWatchPath("@releaseDomain", limits)).isEqualTo("@releaseDomain");
    }

    @Test
    void pathRelations() {
        assertThat(Paths.isChildOf("/a/b", "/a")).isTrue();
        assertThat(Paths.isChildOf("/a", "/a")).isTrue();
        assertThat(Paths.isChildOf("/ab", "/a")).isFalse();
        assertThat(Paths.isChildOf("/a", "/")).isTrue();
        assertThat(Paths.parent("/a/b")).isEqualTo("/a");
        assertThat(Paths.parent("/a")).isEqualTo("/");
        assertThat(Paths.name("/a/b")).isEqualTo("b");
        assertThat(Paths.join("/", "a")).isEqualTo("/a");
        assertThat(Paths.join("/a", "b")).isEqualTo("/a/b");
    }

    @Test
    void permissionsParseAndFormat() {
        Permissions p = Permissions.parse("n0 r5 w7 b65535");
        assertThat(p.owner()).isZero();
        assertThat(p.format()).containsExactly("n0", "r5", "w7", "b65535");
        assertThat(p.toString()).isEqualTo("n0 r5 w7 b65535");
        assertThat(Permissions.parse(p.format())).isEqualTo(p);
        assertThat(p.accessFor(0)).isEqualTo(Access.BOTH);
        assertThat(p.accessFor(5)).isEqualTo(Access.READ);
        assertThat(p.accessFor(7)).isEqualTo(Access.WRITE);
        assertThat(p.accessFor(9)).isEqualTo(Access.NONE);
        assertThat(Permissions.parse("r3,b4").accessFor(8)).isEqualTo(Access.READ);
        assertThat(p.withOwner(9).format()).containsExactly("n9", "r5", "w7", "b65535");
        assertThat(Access.READ.canRead()).isTrue();
        assertThat(Access.READ.canWrite()).isFalse();
        assertThat(Access.BOTH.canWrite()).isTrue();
    }

    @Test
    void malformedPermissionsAreRejected() {
        for (String bad : List.of("", "x0", "r", "r-1", "r65536", "rr", "r1234567", "R0")) {
            assertThatThrownBy(() -> Permission.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Permissions.parse(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}

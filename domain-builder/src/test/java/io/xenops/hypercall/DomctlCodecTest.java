package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class DomctlCodecTest {
    private final DomctlCodec codec = new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17);

    @Test
    void structSizesAndOffsetsMatchXen417() {
        // struct xen_domctl: 16-byte header, then the 128-byte union.
        assertThat(DomctlCodec.DOMCTL.byteSize()).isEqualTo(144);
        assertThat(DomctlCodec.UNION_OFFSET).isEqualTo(16);
        assertThat(DomctlCodec.offset("flags")).isEqualTo(4);
        assertThat(DomctlCodec.offset("tot_pages")).isEqualTo(8);
        assertThat(DomctlCodec.offset("cpu_time")).isEqualTo(56);
        assertThat(DomctlCodec.offset("nr_online_vcpus")).isEqualTo(64);
        assertThat(DomctlCodec.offset("handle")).isEqualTo(76);
        assertThat(DomctlCodec.offset("cpupool")).isEqualTo(92);
        assertThat(DomctlCodec.GETDOMAININFO.byteSize()).isEqualTo(112).isLessThanOrEqualTo(128);
        assertThat(DomctlCodec.INTERFACE_VERSION_4_17).isEqualTo(0x15);
    }

    @Test
    void pauseIsEncodedByteForByte() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4096);
            s.fill((byte) 0x5a); // stale bytes from an earlier call must not leak into the union
            codec.encode(new Domctl.PauseDomain(0x1234), s);
            byte[] expected = new byte[144];
            ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(0x15).putShort((short) 0x1234);
            assertThat(s.asSlice(0, 144).toArray(JAVA_BYTE)).isEqualTo(expected);
            assertThat(s.get(JAVA_BYTE, 144)).as("nothing past the struct is touched").isEqualTo((byte) 0x5a);
        }
    }

    @Test
    void everyOpRoundTrips() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(144);
            for (Domctl op : new Domctl[] {new Domctl.PauseDomain(1), new Domctl.UnpauseDomain(7), new Domctl.GetDomainInfo(0x7fef)}) {
                codec.encode(op, s);
                assertThat(codec.decode(s)).isEqualTo(op);
            }
            assertThat(s.get(java.lang.foreign.ValueLayout.JAVA_INT, 0)).isEqualTo(5);
        }
    }

    @Test
    void wrongInterfaceVersionIsRefusedOnDecode() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(144);
            new DomctlCodec(0x16).encode(new Domctl.PauseDomain(1), s);
            assertThatThrownBy(() -> codec.decode(s)).hasMessageContaining("0x16");
        }
    }

    @Test
    void reservedDomainIdsAreRejected() {
        assertThatThrownBy(() -> new Domctl.PauseDomain(0x7ff0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Domctl.UnpauseDomain(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void domainInfoIsDecodedFromXensBytes() {
        // Bytes laid out by hand from domctl.h, not by the codec under test.
        // Direct, so the memory is aligned as Xen's buffer page is.
        ByteBuffer b = ByteBuffer.allocateDirect(144).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 5).putInt(4, 0x15).putShort(8, (short) 9);
        int u = 16;
        b.putShort(u, (short) 9);
        b.putInt(u + 4, XenDomainInfo.SHUTDOWN | XenDomainInfo.PAUSED | (3 << 16)); // shutdown: crash
        b.putLong(u + 8, 1024).putLong(u + 16, 2048).putLong(u + 56, 123_456_789L);
        b.putInt(u + 64, 2).putInt(u + 68, 1);
        for (int i = 0; i < 16; i++) b.put(u + 76 + i, (byte) (0xa0 + i));
        b.putInt(u + 92, 0);
        XenDomainInfo info = codec.decodeDomainInfo(MemorySegment.ofBuffer(b));
        assertThat(info.domid()).isEqualTo(9);
        assertThat(info.totPages()).isEqualTo(1024);
        assertThat(info.maxPages()).isEqualTo(2048);
        assertThat(info.cpuTimeNs()).isEqualTo(123_456_789L);
        assertThat(info.onlineVcpus()).isEqualTo(2);
        assertThat(info.maxVcpuId()).isEqualTo(1);
        assertThat(info.shutdown()).isTrue();
        assertThat(info.paused()).isTrue();
        assertThat(info.dying()).isFalse();
        assertThat(info.shutdownReason()).isEqualTo(XenDomainInfo.ShutdownReason.CRASH);
        assertThat(info.uuid()).isEqualTo("a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
    }

    @Test
    void domainInfoEncodeDecodeRoundTrip() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(144);
            byte[] h = new byte[16];
            h[15] = 1;
            XenDomainInfo in = new XenDomainInfo(42, XenDomainInfo.RUNNING, 10, 20, 30, 1, 0, h, 3);
            codec.encodeDomainInfo(in, s);
            XenDomainInfo out = codec.decodeDomainInfo(s);
            assertThat(out.domid()).isEqualTo(42);
            assertThat(out.flags()).isEqualTo(XenDomainInfo.RUNNING);
            assertThat(out.cpupool()).isEqualTo(3);
            assertThat(out.handle()).isEqualTo(h);
        }
    }
}

package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.InvalidRequestException;
import io.xenops.xenstore.error.NoSuchNodeException;
import io.xenops.xenstore.error.PermissionDeniedException;
import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.error.TransactionConflictException;
import io.xenops.xenstore.error.XenStoreErrorException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CodecTest {

    private final RequestEncoder encoder = new RequestEncoder(Limits.standard());
    private final RequestDecoder decoder = new RequestDecoder();
    private final ReplyEncoder replyEncoder = new ReplyEncoder();
    private final ReplyDecoder replyDecoder = new ReplyDecoder();

    /** One example of every request record. */
    static List<Request<?>> everyRequest() {
        return List.of(
                new Request.Read("/a/b"),
                new Request.Write("/a/b", new byte[] {1, 0, 2}),
                new Request.Mkdir("/a"),
                new Request.Rm("/a"),
                new Request.Directory("/a"),
                new Request.DirectoryPart("/a", 123),
                new Request.GetPerms("/a"),
                new Request.SetPerms("/a", Permissions.parse("n0 r5 b7")),
                new Request.Watch("/a", "tok"),
                new Request.Unwatch("@releaseDomain", "tok"),
                new Request.ResetWatches(),
                new Request.TransactionStart(),
                new Request.TransactionEnd(true),
                new Request.TransactionEnd(false),
                new Request.Introduce(5, -3, 9),
                new Request.Release(5),
                new Request.Resume(5),
                new Request.SetTarget(5, 6),
                new Request.GetDomainPath(5),
                new Request.IsDomainIntroduced(5),
                new Request.Control(List.of("print", "hello")),
                new Request.GetFeature(OptionalInt.empty()),
                new Request.GetFeature(OptionalInt.of(4)),
                new Request.SetFeature(4, 1),
                new Request.GetQuotaNames(),
                new Request.GetQuota(OptionalInt.empty(), "nodes"),
                new Request.GetQuota(OptionalInt.of(3), "nodes"),
                new Request.SetQuota(OptionalInt.empty(), "nodes", 10),
                new Request.SetQuota(OptionalInt.of(3), "watches", 20));
    }

    @Test
    void everyRequestSurvivesEncodeThenDecode() {
        for (Request<?> r : everyRequest()) {
            Frame f = encoder.frame(r, 42, 7);
            assertThat(f.type()).isEqualTo(r.type().code());
            byte[] bytes = encoder.encode(r, 42, 7);
            Frame back = new FrameDecoder(Limits.standard()).next(ByteBuffer.wrap(bytes));
            assertThat(back).isEqualTo(f);
            assertThat(decoder.decode(back)).as(r.toString()).isEqualTo(r);
        }
    }

    @Test
    void everyMessageTypeOfXsWireHasItsCode() {
        assertThat(MessageType.values()).hasSize(26);
        assertThat(MessageType.CONTROL.code()).isZero();
        assertThat(MessageType.WATCH_EVENT.code()).isEqualTo(15);
        assertThat(MessageType.ERROR.code()).isEqualTo(16);
        assertThat(MessageType.RESET_WATCHES.code()).isEqualTo(21);
        assertThat(MessageType.DIRECTORY_PART.code()).isEqualTo(22);
        assertThat(MessageType.SET_QUOTA.code()).isEqualTo(26);
        assertThat(MessageType.of(20)).isEmpty();
        assertThat(MessageType.of(MessageType.INVALID_CODE)).isEmpty();
        assertThat(MessageType.of(-1)).isEmpty();
        for (MessageType t : MessageType.values()) {
            assertThat(MessageType.of(t.code())).contains(t);
        }
    }

    @Test
    void headerIsFourLittleEndianWordsThenPayload() {
        byte[] bytes = encoder.encode(new Request.Read("/x"), 0x01020304, 0x0a0b0c0d);
        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo(
                "02000000" + "04030201" + "0d0c0b0a" + "03000000" + "2f7800");
        byte[] write = encoder.encode(new Request.Write("/x", "v".getBytes(StandardCharsets.UTF_8)), 1, 0);
        // The value follows the path's NUL and is not terminated itself.
        assertThat(HexFormat.of().formatHex(write, 16, write.length)).isEqualTo("2f780076");
    }

    @Test
    void argumentlessRequestsEncodeAsXenstoredExpects() {
        assertThat(encoder.payload(new Request.TransactionStart())).containsExactly(0);
        assertThat(encoder.payload(new Request.ResetWatches())).containsExactly(0);
        assertThat(encoder.payload(new Request.GetFeature(OptionalInt.empty()))).isEmpty();
        assertThat(encoder.payload(new Request.GetQuotaNames())).isEmpty();
        assertThat(new String(encoder.payload(new Request.SetQuota(OptionalInt.of(3), "nodes", 9)), StandardCharsets.UTF_8))
                .isEqualTo("3\0nodes\0009\0");
    }

    @Test
    void encoderRefusesPayloadOverTheLimit() {
        byte[] value = new byte[Limits.XENSTORE_PAYLOAD_MAX - 2];
        assertThat(encoder.encode(new Request.Write("/", value), 1, 0)).hasSize(16 + 4096);
        assertThatThrownBy(() -> encoder.encode(new Request.Write("/x", value), 1, 0))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("4097");
    }

    @Test
    void repliesSurviveEncodeThenDecode() {
        Frame req = new Frame(MessageType.READ, 1, 0, new byte[0]);
        check(new Request.Read("/a"), req, new byte[] {0, 1, 2});
        check(new Request.Directory("/a"), req, List.of("x", "y"));
        check(new Request.Directory("/a"), req, List.of());
        check(new Request.DirectoryPart("/a", 0), req, new DirectoryChunk(17, List.of("a", "bb"), false));
        check(new Request.DirectoryPart("/a", 0), req, new DirectoryChunk(17, List.of("a"), true));
        check(new Request.DirectoryPart("/a", 9), req, new DirectoryChunk(18, List.of(), true));
        check(new Request.GetPerms("/a"), req, Permissions.parse("r0 w3"));
        check(new Request.TransactionStart(), req, -2);
        check(new Request.GetDomainPath(3), req, "/local/domain/3");
        check(new Request.IsDomainIntroduced(3), req, true);
        check(new Request.IsDomainIntroduced(3), req, false);
        check(new Request.Control(List.of("help")), req, "check\nlog\n");
        check(new Request.GetFeature(OptionalInt.empty()), req, 4294967295L);
        check(new Request.GetQuota(OptionalInt.empty(), "nodes"), req, 1000L);
        check(new Request.GetQuotaNames(), req, List.of("nodes", "watches"));
        for (Request<?> r : everyRequest()) {
            if (r instanceof Request.Write || r instanceof Request.Mkdir || r instanceof Request.SetQuota) {
                byte[] p = replyEncoder.payload(r, null);
                assertThat(new String(p, StandardCharsets.UTF_8)).isEqualTo("OK\0");
            }
        }
    }

    private <R> void check(Request<R> r, Frame req, R value) {
        Frame reply = replyEncoder.reply(r, req, value);
        Object back = replyDecoder.decode(r, reply);
        if (value instanceof byte[] b) {
            assertThat((byte[]) back).isEqualTo(b);
        } else {
            assertThat(back).isEqualTo(value);
        }
    }

    @Test
    void directoryPartReplyMarksTheEndWithAnEmptyString() {
        DirectoryChunk last = new DirectoryChunk(5, List.of("a", "bc"), true);
        byte[] p = replyEncoder.payload(new Request.DirectoryPart("/", 0), last);
        assertThat(new String(p, StandardCharsets.UTF_8)).isEqualTo("5\0a\0bc\0\0");
        assertThat(last.byteLength()).isEqualTo(5);
    }

    @Test
    void errorRepliesBecomeTypedExceptions() {
        Frame req = new Frame(MessageType.READ, 1, 0, new byte[0]);
        Request.Read read = new Request.Read("/a");
        assertThatThrownBy(() -> replyDecoder.decode(read, replyEncoder.error(req, ErrorCode.ENOENT)))
                .isInstanceOf(NoSuchNodeException.class).hasMessageContaining("READ /a");
        assertThatThrownBy(() -> replyDecoder.decode(read, replyEncoder.error(req, ErrorCode.EAGAIN)))
                .isInstanceOf(TransactionConflictException.class);
        assertThatThrownBy(() -> replyDecoder.decode(read, replyEncoder.error(req, ErrorCode.EACCES)))
                .isInstanceOf(PermissionDeniedException.class);
        assertThatThrownBy(() -> replyDecoder.decode(read, replyEncoder.error(req, "E2BIG")))
                .isInstanceOfSatisfying(XenStoreErrorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.E2BIG));
        assertThatThrownBy(() -> replyDecoder.decode(read, replyEncoder.error(req, "EWEIRD")))
                .isInstanceOfSatisfying(XenStoreErrorException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN);
                    assertThat(e.wireName()).isEqualTo("EWEIRD");
                });
        for (ErrorCode c : ErrorCode.values()) {
            if (c != ErrorCode.UNKNOWN) {
                assertThat(XenStoreErrorException.of(c.name(), "").code()).isEqualTo(c);
            }
        }
    }

    @Test
    void replyOfTheWrongTypeIsAProtocolError() {
        Frame reply = new Frame(MessageType.WRITE, 1, 0, Payloads.nulTerminated("OK"));
        assertThatThrownBy(() -> replyDecoder.decode(new Request.Read("/a"), reply)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void malformedRepliesAreProtocolErrors() {
        assertThatThrownBy(() -> replyDecoder.value(new Request.TransactionStart(), Payloads.nulTerminated("x1")))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.value(new Request.TransactionStart(), Payloads.nulTerminated("0")))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.value(new Request.TransactionStart(), Payloads.nulTerminated("4294967296")))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.value(new Request.GetPerms("/"), Payloads.nulTerminated("q0")))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.value(new Request.IsDomainIntroduced(1), Payloads.nulTerminated("Y")))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.value(new Request.DirectoryPart("/", 0), "12".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> replyDecoder.watchEvent(new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated("/a"))))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void malformedRequestsAreEinvalForTheSender() {
        assertEinval(new Frame(20, 1, 0, new byte[0]));
        assertEinval(new Frame(0x7777, 1, 0, new byte[0]));
        assertEinval(new Frame(MessageType.WRITE, 1, 0, "/no-nul".getBytes(StandardCharsets.UTF_8)));
        assertEinval(new Frame(MessageType.TRANSACTION_END, 1, 0, Payloads.nulTerminated("X")));
        assertEinval(new Frame(MessageType.SET_PERMS, 1, 0, Payloads.nulTerminated("/a")));
        assertEinval(new Frame(MessageType.SET_PERMS, 1, 0, Payloads.nulTerminated("/a", "z0")));
        assertEinval(new Frame(MessageType.RELEASE, 1, 0, Payloads.nulTerminated("70000")));
        assertEinval(new Frame(MessageType.WATCH, 1, 0, Payloads.nulTerminated("/a")));
        assertEinval(new Frame(MessageType.WATCH_EVENT, 1, 0, Payloads.nulTerminated("/a", "t")));
        assertEinval(new Frame(MessageType.SET_QUOTA, 1, 0, Payloads.nulTerminated("nodes")));
        assertEinval(new Frame(MessageType.DIRECTORY_PART, 1, 0, Payloads.nulTerminated("/a", "-1")));
    }

    private void assertEinval(Frame f) {
        assertThatThrownBy(() -> decoder.decode(f)).as(f.toString())
                .isInstanceOfSatisfying(XenStoreErrorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.EINVAL));
    }

    @Test
    void frameDecoderReassemblesAnyFragmentation() {
        byte[] a = encoder.encode(new Request.Write("/a", new byte[300]), 1, 0);
        byte[] b = encoder.encode(new Request.Read("/b"), 2, 0);
        byte[] stream = new byte[a.length + b.length];
        System.arraycopy(a, 0, stream, 0, a.length);
        System.arraycopy(b, 0, stream, a.length, b.length);
        for (int chunk = 1; chunk <= stream.length; chunk += 7) {
            FrameDecoder d = new FrameDecoder(Limits.standard());
            java.util.List<Frame> out = new java.util.ArrayList<>();
            for (int off = 0; off < stream.length; off += chunk) {
                ByteBuffer piece = ByteBuffer.wrap(stream, off, Math.min(chunk, stream.length - off));
                Frame f;
                while ((f = d.next(piece)) != null) {
                    out.add(f);
                }
                assertThat(piece.hasRemaining()).isFalse();
            }
            assertThat(out).extracting(Frame::reqId).containsExactly(1, 2);
            assertThat(d.idle()).isTrue();
        }
    }

    @Test
    void frameDecoderRejectsLengthOverTheLimitBeforeAllocating() {
        ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(2).putInt(1).putInt(0).putInt(-1).flip();
        FrameDecoder d = new FrameDecoder(Limits.standard());
        assertThatThrownBy(() -> d.next(header)).isInstanceOf(ProtocolException.class).hasMessageContaining("4294967295");
        // Stays failed: the stream has lost its framing.
        assertThatThrownBy(() -> d.next(ByteBuffer.wrap(new byte[16]))).isInstanceOf(ProtocolException.class);
        assertThat(d.bufferedBytes()).isZero();
    }
}

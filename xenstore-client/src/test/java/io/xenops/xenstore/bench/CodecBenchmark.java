package io.xenops.xenstore.bench;

import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.ReplyDecoder;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.RequestDecoder;
import io.xenops.xenstore.wire.RequestEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Encode and decode costs of single messages, no I/O. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {

    private final RequestEncoder encoder = new RequestEncoder(Limits.standard());
    private final RequestDecoder requestDecoder = new RequestDecoder();
    private final ReplyDecoder replyDecoder = new ReplyDecoder();
    private final Request.Read read = new Request.Read("/local/domain/17/device/vif/0/state");
    private final Request.Write write = new Request.Write("/local/domain/17/data/payload", new byte[100]);
    private byte[] readBytes;
    private byte[] writeBytes;
    private Frame readReply;

    @Setup
    public void setup() {
        readBytes = encoder.encode(read, 7, 0);
        writeBytes = encoder.encode(write, 8, 0);
        readReply = new Frame(MessageType.READ, 7, 0, "4".getBytes(StandardCharsets.UTF_8));
    }

    @Benchmark
    public byte[] encodeRead() {
        return encoder.encode(read, 7, 0);
    }

    @Benchmark
    public byte[] encodeWrite100() {
        return encoder.encode(write, 8, 0);
    }

    /** What the server does per request: reassemble the frame and parse it. */
    @Benchmark
    public Request<?> decodeReadRequest() {
        return requestDecoder.decode(new FrameDecoder(Limits.standard()).next(ByteBuffer.wrap(readBytes)));
    }

    @Benchmark
    public Request<?> decodeWrite100Request() {
        return requestDecoder.decode(new FrameDecoder(Limits.standard()).next(ByteBuffer.wrap(writeBytes)));
    }

    /** What the client does per reply once framed. */
    @Benchmark
    public byte[] decodeReadReply() {
        return replyDecoder.decode(read, readReply);
    }
}

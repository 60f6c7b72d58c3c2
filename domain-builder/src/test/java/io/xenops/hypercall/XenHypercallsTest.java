package io.xenops.hypercall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class XenHypercallsTest {
    private final FakeXen fake = new FakeXen();
    private final XenHypercalls xen = new XenHypercalls(fake, FakeXen.CODEC);

    @Test
    void pauseAndUnpauseAreDomctlsOnTheBufferPage() throws Exception {
        fake.put(FakeXen.paused(5, new byte[16]));
        xen.unpauseDomain(5);
        assertThat(fake.get(5).paused()).isFalse();
        xen.pauseDomain(5);
        assertThat(fake.get(5).paused()).isTrue();
        assertThat(fake.requests()).containsExactly(new Domctl.UnpauseDomain(5), new Domctl.PauseDomain(5));
        assertThat(fake.bufferAddresses()).allMatch(a -> a == fake.bufferPage().address());
    }

    @Test
    void domainInfoIsExactEvenThoughXen417AnswersTheNextDomain() throws Exception {
        fake.put(FakeXen.paused(0, new byte[16]));
        fake.put(FakeXen.paused(7, new byte[16]));
        assertThat(xen.domainInfo(7)).get().extracting(XenDomainInfo::domid).isEqualTo(7);
        assertThat(xen.domainInfo(3)).as("Xen answers for domain 7; that is not domain 3").isEmpty();
        assertThat(xen.domainInfo(8)).as("ESRCH").isEmpty();
        assertThat(xen.domains()).extracting(XenDomainInfo::domid).containsExactly(0, 7);
    }

    @Test
    void errorsOtherThanNoSuchDomainPropagate() {
        assertThatThrownBy(() -> xen.unpauseDomain(4)).isInstanceOf(HypercallException.class)
                .satisfies(e -> assertThat(((HypercallException) e).errno()).isEqualTo(HypercallException.ESRCH));
    }

    @Test
    void versionCombinesNumberAndExtraversion() throws Exception {
        assertThat(xen.version()).isEqualTo(new XenVersion(4, 17, "-fake"));
        assertThat(xen.version().toString()).isEqualTo("4.17-fake");
    }
}

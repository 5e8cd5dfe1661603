import Segmentation
import Tensor
import Testing

/// A network's arena (`TensorPool`): once a session's steps are in their steady state, every
/// tensor a forward pass creates takes a buffer an earlier pass freed, and a tensor a caller keeps
/// is never written by a later pass.
@Suite struct EngineArenaTests {
    @Test func steadyStateStepsAllocateNoTensorStorage() throws {
        let network = try SimNetwork(contentsOf: NetworkParityTests.path("Models/sim.safetensors"))
        let golden = try WeightFile(contentsOf: NetworkParityTests.path("Tests/Fixtures/engine/sim-golden.safetensors"))
        let input = try golden.tensor("input1")
        // Step k keeps step k − 1's output alive while it runs, as an interactive session does.
        var previous = try network.forward(input, states: nil)
        for _ in 0..<3 { previous = try network.forward(input, states: previous.states) }
        let kept = previous
        let keptValues = kept.logits.values.map { $0 }
        let before = network.arena.statistics
        previous = try network.forward(input, states: previous.states)
        let after = network.arena.statistics
        #expect(after.taken - before.taken > 50, "a SIM forward pass creates over 50 tensors")
        #expect(after.allocated == before.allocated, "\(after.allocated - before.allocated) buffers allocated")
        // Two generations kept alive: the next pass needs new buffers and must not take kept ones.
        previous = try network.forward(input, states: previous.states)
        #expect(kept.logits.values == keptValues, "a later pass wrote into a kept output")
        #expect(previous.logits.values != keptValues, "the states carried into the next step change its output")
    }

    /// Recycled buffers give the same result as fresh ones.
    @Test func aPassOnRecycledBuffersMatchesTheFirst() throws {
        let network = try SimNetwork(contentsOf: NetworkParityTests.path("Models/cim.safetensors"))
        let golden = try WeightFile(contentsOf: NetworkParityTests.path("Tests/Fixtures/engine/cim-golden.safetensors"))
        let input = try golden.tensor("input1")
        let first = try network.forward(input, states: nil).logits.values.map { $0 }
        let allocated = network.arena.statistics.allocated
        let second = try network.forward(input, states: nil).logits
        #expect(network.arena.statistics.allocated == allocated)
        #expect(second.values == first)
    }
}

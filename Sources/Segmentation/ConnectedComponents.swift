/// Connected components of a binary 2-D mask (8-connected), as pixel index lists.
public enum ConnectedComponents {
    /// The components of `mask` (width x height, row by row), largest first.
    public static func of(_ mask: [Bool], width: Int, height: Int) -> [[Int]] {
        precondition(mask.count == width * height, "mask size does not match width x height")
        var seen = [Bool](repeating: false, count: mask.count)
        var components: [[Int]] = []
        var stack: [Int] = []
        for start in mask.indices where mask[start] && !seen[start] {
            var component: [Int] = []
            seen[start] = true
            stack.append(start)
            while let index = stack.popLast() {
                component.append(index)
                let x = index % width
                let y = index / width
                for dy in -1...1 {
                    let ny = y + dy
                    guard ny >= 0 && ny < height else { continue }
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        let nx = x + dx
                        guard nx >= 0 && nx < width else { continue }
                        let next = ny * width + nx
                        if mask[next] && !seen[next] {
                            seen[next] = true
                            stack.append(next)
                        }
                    }
                }
            }
            components.append(component)
        }
        return components.sorted { $0.count > $1.count }
    }
}

fn main() {
    let t = std::time::Instant::now();
    let b = tiktoken_rs::o200k_base().expect("bpe");
    let t1 = t.elapsed();
    let n = b.encode_ordinary("hello world, this is a test").len();
    println!("init {:?} n={n} enc {:?}", t1, t.elapsed() - t1);
}
